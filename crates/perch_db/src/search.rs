//! Search: statuses by their words (SQLite's FTS5, PostgreSQL's text
//! search, over `statuses.search_text`), hashtags and accounts by the
//! start of their names.
//!
//! Status search reads only what the viewer may read (`visible_to!`) and
//! nothing by accounts kept from it, newest first, paged by id like a
//! timeline (and by a bounded offset, as Mastodon's search is paged).
//! Every word must occur; words are matched whole, case and (on SQLite)
//! accents folded.

use crate::accounts::AccountRow;
use crate::page::Page;
use crate::statuses::StatusRow;
use crate::{Db, Result};

/// The most results one search skips with `offset`.
pub const MAX_OFFSET: i64 = 1_000;
/// Words of a query past this many are ignored.
pub const MAX_WORDS: usize = 16;

/// The text a status is found by: its content warning and its text with
/// the markup cut out and the common entities decoded (what is stored is
/// HTML we wrote or cleaned, so tags never nest in attribute values).
pub(crate) fn searchable_text(spoiler_text: &str, html: &str) -> String {
    let mut text = String::with_capacity(spoiler_text.len() + html.len() + 1);
    text.push_str(spoiler_text);
    text.push(' ');
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                text.push(' ');
            }
            (true, '>') => in_tag = false,
            (false, c) => text.push(c),
            (true, _) => {}
        }
    }
    for (entity, c) in [
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&nbsp;", " "),
        ("&amp;", "&"),
    ] {
        if text.contains(entity) {
            text = text.replace(entity, c);
        }
    }
    text
}

/// The words of a query: runs of letters and digits, at most
/// [`MAX_WORDS`], lower-cased.
pub fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(MAX_WORDS)
        .map(str::to_lowercase)
        .collect()
}

/// An FTS5 query that needs every word: each one a quoted string, so no
/// word is read as an operator.
fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Statuses `viewer` may read that contain every one of `words` (from
/// [`words`]; none finds nothing), newest first.
pub async fn statuses(
    db: &Db,
    viewer: i64,
    words: &[String],
    page: &Page,
    offset: i64,
) -> Result<Vec<StatusRow>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let (lower, upper) = (page.lower(), page.upper());
    let offset = offset.clamp(0, MAX_OFFSET);
    macro_rules! query {
        ($order:literal) => {
            match db {
                Db::Sqlite(pool) => {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        status_columns!(),
                        " FROM status_search f \
                         JOIN statuses s ON s.id = f.rowid \
                         WHERE status_search MATCH $1 AND s.id > $2 AND s.id < $3 \
                         AND s.reblog_of_id IS NULL AND ",
                        visible_to!("$5"),
                        " AND ",
                        not_kept_from!("$5"),
                        " ORDER BY s.id ",
                        $order,
                        " LIMIT $4 OFFSET $6"
                    ))
                    .bind(fts5_query(words))
                    .bind(lower)
                    .bind(upper)
                    .bind(page.limit)
                    .bind(viewer)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?
                }
                Db::Postgres(pool) => {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        status_columns!(),
                        " FROM statuses s \
                         WHERE to_tsvector('simple', COALESCE(s.search_text, '')) \
                               @@ plainto_tsquery('simple', $1) \
                         AND s.id > $2 AND s.id < $3 \
                         AND s.reblog_of_id IS NULL AND ",
                        visible_to!("$5"),
                        " AND ",
                        not_kept_from!("$5"),
                        " ORDER BY s.id ",
                        $order,
                        " LIMIT $4 OFFSET $6"
                    ))
                    .bind(words.join(" "))
                    .bind(lower)
                    .bind(upper)
                    .bind(page.limit)
                    .bind(viewer)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?
                }
            }
        };
    }
    let rows = if page.ascending() {
        query!("ASC")
    } else {
        query!("DESC")
    };
    Ok(page.finish(rows))
}

/// `LIKE` pattern of names starting with `prefix` (`\` escapes).
fn starts_with(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Names of hashtags used here that start with `prefix` (lower-cased),
/// shortest first.
pub async fn tags(db: &Db, prefix: &str, limit: i64) -> Result<Vec<String>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT name FROM tags WHERE name LIKE $1 ESCAPE '\\' \
             ORDER BY length(name), name LIMIT $2",
        )
        .bind(starts_with(prefix))
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Accounts whose username or display name starts with `prefix`, local
/// ones first, then the most followed; none that is suspended, nor kept
/// from `viewer` (0: nobody); with `following`, only those `viewer`
/// follows.
pub async fn accounts(
    db: &Db,
    prefix: &str,
    viewer: i64,
    following: bool,
    limit: i64,
) -> Result<Vec<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", account_columns!(), " FROM accounts \
             WHERE (lower(username) LIKE $1 ESCAPE '\\' OR lower(display_name) LIKE $1 ESCAPE '\\') \
             AND suspended_at IS NULL AND actor_type <> 'Application' \
             AND ($2 = 0 OR NOT ", kept_from!("$2", "accounts.id", ""), ") \
             AND ($4 = FALSE OR id IN (SELECT target_account_id FROM follows WHERE account_id = $2)) \
             ORDER BY domain IS NOT NULL, followers_count DESC, id LIMIT $3"
        ))
        .bind(starts_with(prefix))
        .bind(viewer)
        .bind(limit)
        .bind(following)
        .fetch_all(pool)
        .await?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_searchable_text_is_the_words_without_the_markup() {
        let text = searchable_text(
            "cw",
            "<p>Hello <a href=\"https://x.example/tags/rust\" class=\"mention hashtag\">#<span>rust</span></a> &amp; caf\u{e9}</p>",
        );
        assert_eq!(words(&text), ["cw", "hello", "rust", "café"]);
        assert!(!text.contains("href"));
    }

    #[test]
    fn query_words_are_quoted_for_fts5_and_bounded() {
        assert_eq!(
            words("  Perch: \"AND\" OR* -x "),
            ["perch", "and", "or", "x"]
        );
        assert_eq!(fts5_query(&words("a\"b")), "\"a\" \"b\"");
        assert_eq!(words(&"w ".repeat(100)).len(), MAX_WORDS);
        assert!(words("!!! ...").is_empty());
    }

    #[test]
    fn prefixes_escape_the_like_wildcards() {
        assert_eq!(starts_with("A_b%"), "a\\_b\\%%");
    }
}
