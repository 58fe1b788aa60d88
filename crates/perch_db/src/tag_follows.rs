//! Followed hashtags: an account follows a tag, and public statuses that
//! carry it reach the account's home feed ([`crate::statuses::fan_out`]
//! adds them; [`unfollow`] takes them out again).

use perch_core::time::UnixMillis;

use crate::page::Page;
use crate::{Db, Result, Tx};

/// A hashtag one account follows, with the id the follow was made under
/// (followed tags page by it, newest follow first).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FollowedTagRow {
    pub id: i64,
    pub tag_id: i64,
    /// Lower-cased, without `#`.
    pub name: String,
}

/// The id of the tag `name` (lower-cased), creating it under `new_id` when
/// no status has used it yet.
pub async fn tag_id(tx: &mut Tx, new_id: i64, name: &str, now: UnixMillis) -> Result<i64> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO tags (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(new_id)
        .bind(name)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query_scalar("SELECT id FROM tags WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?
    }))
}

/// The id of the tag `name` (lower-cased), when it exists.
pub async fn find_tag(db: &Db, name: &str) -> Result<Option<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM tags WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
    }))
}

/// `account_id` follows the tag `tag_id` under the new id `id`; false when
/// it already did.
pub async fn follow(
    tx: &mut Tx,
    id: i64,
    account_id: i64,
    tag_id: i64,
    now: UnixMillis,
) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO tag_follows (id, account_id, tag_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(account_id)
        .bind(tag_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }) == 1)
}

/// `account_id` stops following the tag `tag_id`, and the statuses the
/// tag alone brought take their leave of its home feed: those of authors
/// it neither is nor follows, that do not mention it and carry no other
/// tag it still follows. False when it did not follow the tag.
pub async fn unfollow(tx: &mut Tx, account_id: i64, tag_id: i64) -> Result<bool> {
    let removed = on_tx!(tx, conn => {
        sqlx::query("DELETE FROM tag_follows WHERE account_id = $1 AND tag_id = $2")
            .bind(account_id)
            .bind(tag_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    if removed == 0 {
        return Ok(false);
    }
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM home_feed WHERE account_id = $1 AND status_id IN ( \
               SELECT st.status_id FROM status_tags st JOIN statuses s ON s.id = st.status_id \
               WHERE st.tag_id = $2 AND s.account_id <> $1 \
               AND NOT EXISTS (SELECT 1 FROM follows f \
                   WHERE f.account_id = $1 AND f.target_account_id = s.account_id) \
               AND NOT EXISTS (SELECT 1 FROM status_mentions m \
                   WHERE m.status_id = s.id AND m.account_id = $1) \
               AND NOT EXISTS (SELECT 1 FROM status_tags other \
                   JOIN tag_follows tf ON tf.tag_id = other.tag_id AND tf.account_id = $1 \
                   WHERE other.status_id = s.id))",
        )
        .bind(account_id)
        .bind(tag_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(true)
}

/// The tags `account_id` follows, the latest followed first.
pub async fn page(db: &Db, account_id: i64, page: &Page) -> Result<Vec<FollowedTagRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT f.id, f.tag_id, t.name FROM tag_follows f JOIN tags t ON t.id = f.tag_id \
                     WHERE f.account_id = $1 AND f.id > $2 AND f.id < $3 ORDER BY f.id ",
                    $order, " LIMIT $4"
                ))
                .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                .fetch_all(pool).await?
            })
        };
    }
    let rows = if page.ascending() {
        query!("ASC")
    } else {
        query!("DESC")
    };
    Ok(page.finish(rows))
}

/// What a viewer's Tag entities show of each stored tag among `names`
/// (lower-cased): its id, and whether `viewer` (0: nobody) follows and
/// features it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TagState {
    pub id: i64,
    pub name: String,
    pub following: bool,
    pub featuring: bool,
}

/// [`TagState`] of the stored tags among `names`, in no particular order.
pub async fn states(db: &Db, viewer: i64, names: &[String]) -> Result<Vec<TagState>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! query {
        ($names:literal) => {
            concat!(
                "SELECT t.id, t.name, \
                   EXISTS (SELECT 1 FROM tag_follows f WHERE f.tag_id = t.id AND f.account_id = $1) \
                     AS following, \
                   EXISTS (SELECT 1 FROM featured_tags ft WHERE ft.account_id = $1 AND ft.name = t.name) \
                     AS featuring \
                 FROM tags t WHERE t.name IN ",
                $names
            )
        };
    }
    Ok(match db {
        Db::Sqlite(pool) => {
            let names = serde_json::to_string(names).unwrap_or_else(|_| "[]".to_owned());
            sqlx::query_as(query!("(SELECT value FROM json_each($2))"))
                .bind(viewer)
                .bind(names)
                .fetch_all(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(query!("(SELECT unnest($2::text[]))"))
                .bind(viewer)
                .bind(names)
                .fetch_all(pool)
                .await?
        }
    })
}
