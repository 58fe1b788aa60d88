//! Custom emoji: this server's own (added by an admin, `domain` NULL) and
//! those of other servers, as their notes' `Emoji` tags name them (by
//! shortcode and server). A status shows the emoji of its author's server
//! whose `:shortcode:` its text holds.

use perch_core::time::UnixMillis;

use crate::{Db, Result, Tx};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EmojiRow {
    pub id: i64,
    pub shortcode: String,
    /// `None` for this server's own.
    pub domain: Option<String>,
    pub image_url: String,
    /// The `Emoji` object's id (remote ones).
    pub uri: Option<String>,
    pub category: Option<String>,
    pub visible_in_picker: bool,
    pub updated_at: i64,
}

macro_rules! emoji_columns {
    () => {
        "id, shortcode, domain, image_url, uri, category, visible_in_picker, updated_at"
    };
}

/// Add or replace one of this server's emoji; its row.
pub async fn upsert_local(
    db: &Db,
    id: i64,
    shortcode: &str,
    image_url: &str,
    category: Option<&str>,
    now: UnixMillis,
) -> Result<EmojiRow> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "INSERT INTO custom_emojis (id, shortcode, domain, image_url, uri, category, \
               visible_in_picker, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, NULL, $4, TRUE, $5, $5) \
             ON CONFLICT (shortcode, (COALESCE(domain, ''))) DO UPDATE SET \
               image_url = excluded.image_url, category = excluded.category, \
               updated_at = excluded.updated_at \
             RETURNING ", emoji_columns!()
        ))
        .bind(id)
        .bind(shortcode)
        .bind(image_url)
        .bind(category)
        .bind(now)
        .fetch_one(pool)
        .await?
    }))
}

/// Remember the emoji of another server a note or actor names (replacing
/// its image when it changed).
pub async fn upsert_remote(
    tx: &mut Tx,
    id: i64,
    shortcode: &str,
    domain: &str,
    image_url: &str,
    uri: Option<&str>,
    now: UnixMillis,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO custom_emojis (id, shortcode, domain, image_url, uri, category, \
               visible_in_picker, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, NULL, FALSE, $6, $6) \
             ON CONFLICT (shortcode, (COALESCE(domain, ''))) DO UPDATE SET \
               image_url = excluded.image_url, uri = excluded.uri, \
               updated_at = excluded.updated_at \
             WHERE custom_emojis.image_url <> excluded.image_url",
        )
        .bind(id)
        .bind(shortcode)
        .bind(domain)
        .bind(image_url)
        .bind(uri)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// This server's emoji, by shortcode.
pub async fn local(db: &Db) -> Result<Vec<EmojiRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", emoji_columns!(), " FROM custom_emojis WHERE domain IS NULL \
             ORDER BY shortcode"
        ))
        .fetch_all(pool)
        .await?
    }))
}

/// Remove one of this server's emoji; its row, when there was one.
pub async fn remove_local(db: &Db, shortcode: &str) -> Result<Option<EmojiRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "DELETE FROM custom_emojis WHERE domain IS NULL AND shortcode = $1 RETURNING ",
            emoji_columns!()
        ))
        .bind(shortcode)
        .fetch_optional(pool)
        .await?
    }))
}

/// The emoji of `domain` (`None`: this server's) with these shortcodes.
pub async fn named(db: &Db, domain: Option<&str>, shortcodes: &[String]) -> Result<Vec<EmojiRow>> {
    let Some(list) = Shortcodes::of(shortcodes) else {
        return Ok(Vec::new());
    };
    Ok(match db {
        Db::Sqlite(pool) => list.sqlite(domain).fetch_all(pool).await?,
        Db::Postgres(pool) => list.postgres(domain).fetch_all(pool).await?,
    })
}

/// [`named`], in a transaction.
pub async fn named_in(
    tx: &mut Tx,
    domain: Option<&str>,
    shortcodes: &[String],
) -> Result<Vec<EmojiRow>> {
    let Some(list) = Shortcodes::of(shortcodes) else {
        return Ok(Vec::new());
    };
    Ok(match tx {
        Tx::Sqlite(tx) => list.sqlite(domain).fetch_all(&mut **tx).await?,
        Tx::Postgres(tx) => list.postgres(domain).fetch_all(&mut **tx).await?,
    })
}

/// The shortcodes of a lookup, those that could be stored only: letters,
/// digits and `_`, so the JSON list SQLite reads needs no escaping.
struct Shortcodes<'a>(Vec<&'a str>);

type EmojiQuery<'q, DB> =
    sqlx::query::QueryAs<'q, DB, EmojiRow, <DB as sqlx::Database>::Arguments<'q>>;

impl<'a> Shortcodes<'a> {
    fn of(shortcodes: &'a [String]) -> Option<Self> {
        let list: Vec<&str> = shortcodes
            .iter()
            .map(String::as_str)
            .filter(|s| is_shortcode(s))
            .collect();
        (!list.is_empty()).then_some(Self(list))
    }

    fn sqlite<'q>(&self, domain: Option<&'q str>) -> EmojiQuery<'q, sqlx::Sqlite> {
        let json = format!(
            "[{}]",
            self.0
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        sqlx::query_as(concat!(
            "SELECT ",
            emoji_columns!(),
            " FROM custom_emojis \
             WHERE COALESCE(domain, '') = COALESCE($1, '') \
             AND shortcode IN (SELECT value FROM json_each($2))"
        ))
        .bind(domain)
        .bind(json)
    }

    fn postgres<'q>(&self, domain: Option<&'q str>) -> EmojiQuery<'q, sqlx::Postgres> {
        sqlx::query_as(concat!(
            "SELECT ",
            emoji_columns!(),
            " FROM custom_emojis \
             WHERE COALESCE(domain, '') = COALESCE($1, '') AND shortcode = ANY($2)"
        ))
        .bind(domain)
        .bind(
            self.0
                .iter()
                .map(|s| (*s).to_owned())
                .collect::<Vec<String>>(),
        )
    }
}

/// Whether `text` can be a shortcode: 2 to 64 letters, digits or `_`.
pub fn is_shortcode(text: &str) -> bool {
    (2..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `:shortcode:`s a text holds (letters, digits and `_`, 2 to 64),
/// distinct, at most `limit`.
pub fn shortcodes_in(text: &str, limit: usize) -> Vec<String> {
    let parts: Vec<&str> = text.split(':').collect();
    let mut found: Vec<String> = Vec::new();
    // Those between two colons: neither the first part nor the last.
    for candidate in parts.iter().skip(1).take(parts.len().saturating_sub(2)) {
        if found.len() >= limit {
            break;
        }
        if is_shortcode(candidate) && !found.iter().any(|f| f == candidate) {
            found.push((*candidate).to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_are_the_words_between_colons() {
        assert_eq!(
            shortcodes_in(
                "hi :blob_cat: and :blob_cat::party: at 10:30 :x: :no way:",
                10
            ),
            ["blob_cat", "party"]
        );
        assert!(shortcodes_in("no emoji here", 10).is_empty());
        assert_eq!(shortcodes_in(":aa: :bb: :cc:", 2).len(), 2);
    }
}
