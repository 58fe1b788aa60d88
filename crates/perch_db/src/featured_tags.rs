//! The hashtags an account features on its profile, each with how many of
//! its public and unlisted statuses carry it and when the last one was.

use perch_core::time::UnixMillis;

use crate::{Db, Result};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FeaturedTagRow {
    pub id: i64,
    pub account_id: i64,
    /// Lower-cased, without `#`.
    pub name: String,
    pub statuses_count: i64,
    pub last_status_at: Option<i64>,
}

/// An account's featured hashtags, in the order they were added.
pub async fn of_account(db: &Db, account_id: i64) -> Result<Vec<FeaturedTagRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT f.id, f.account_id, f.name, \
               (SELECT COUNT(*) FROM statuses s JOIN status_tags st ON st.status_id = s.id \
                  JOIN tags t ON t.id = st.tag_id \
                  WHERE s.account_id = f.account_id AND t.name = f.name \
                  AND s.visibility <= 1 AND s.reblog_of_id IS NULL) AS statuses_count, \
               (SELECT MAX(s.created_at) FROM statuses s JOIN status_tags st ON st.status_id = s.id \
                  JOIN tags t ON t.id = st.tag_id \
                  WHERE s.account_id = f.account_id AND t.name = f.name \
                  AND s.visibility <= 1 AND s.reblog_of_id IS NULL) AS last_status_at \
             FROM featured_tags f WHERE f.account_id = $1 ORDER BY f.id",
        )
        .bind(account_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Feature `name` for `account_id`; false when it was already.
pub async fn add(db: &Db, id: i64, account_id: i64, name: &str, now: UnixMillis) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO featured_tags (id, account_id, name, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(account_id)
        .bind(name)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    }) == 1)
}

/// Stop featuring one of `account_id`'s tags; whether it was one of them.
pub async fn remove(db: &Db, account_id: i64, id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM featured_tags WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(pool)
            .await?
            .rows_affected()
    }) == 1)
}

/// The hashtags `account_id` used most in its statuses, not featured yet,
/// at most `limit`.
pub async fn most_used(db: &Db, account_id: i64, limit: i64) -> Result<Vec<String>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT t.name FROM statuses s JOIN status_tags st ON st.status_id = s.id \
             JOIN tags t ON t.id = st.tag_id WHERE s.account_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM featured_tags f WHERE f.account_id = $1 AND f.name = t.name) \
             GROUP BY t.name ORDER BY COUNT(*) DESC, t.name LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}
