//! Purges of what is kept only for a while, so that nothing grows with the
//! traffic a server has seen rather than the content it keeps.
//!
//! Each purge deletes at most [`BATCH`] rows per call, oldest first, so that
//! no statement holds SQLite's write lock (or PostgreSQL's row locks) for
//! long; callers repeat a purge until it returns less than a batch. Every
//! purge is idempotent: several processes running them at once do no harm.

use perch_core::time::UnixMillis;

use crate::{Db, Result};

/// Rows deleted by one call at most.
pub const BATCH: i64 = 1000;

/// Ids of activities applied before `before` (kept so that a redelivery is
/// not applied twice; senders stop retrying long before).
pub async fn received_activities(db: &Db, before: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM received_activities WHERE uri IN (\
               SELECT uri FROM received_activities WHERE received_at < $1 \
               ORDER BY received_at LIMIT $2)",
        )
        .bind(before)
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// Deliveries that ended (delivered, or given up) before `before`.
pub async fn finished_deliveries(db: &Db, before: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM deliveries WHERE id IN (\
               SELECT id FROM deliveries WHERE state <> 0 AND finished_at < $1 \
               ORDER BY finished_at LIMIT $2)",
        )
        .bind(before)
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// Published activities created before `before` that no delivery needs
/// any more.
pub async fn delivered_activities(db: &Db, before: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM outbound_activities WHERE id IN (\
               SELECT a.id FROM outbound_activities a WHERE a.created_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.activity_id = a.id) \
               ORDER BY a.created_at LIMIT $2)",
        )
        .bind(before)
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// Authorization codes and refresh tokens that expired before `now`. A
/// used refresh token is kept until it expires: presenting it again is how
/// a stolen one is detected.
pub async fn expired_credentials(db: &Db, now: UnixMillis) -> Result<u64> {
    let codes = on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM authorization_codes WHERE code_hash IN (\
               SELECT code_hash FROM authorization_codes WHERE expires_at < $1 LIMIT $2)",
        )
        .bind(now)
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected()
    });
    let tokens = on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM refresh_tokens WHERE token_hash IN (\
               SELECT token_hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)",
        )
        .bind(now)
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(codes + tokens)
}

/// `Idempotency-Key`s remembered since before `before`.
pub async fn idempotency_keys(db: &Db, before: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM status_idempotency WHERE (account_id, key) IN (\
               SELECT account_id, key FROM status_idempotency WHERE created_at < $1 LIMIT $2)",
        )
        .bind(before)
        .bind(BATCH)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// Home feeds longer than `keep` entries lose their oldest, a batch at a
/// time; paging past what is kept reads the statuses themselves
/// (`timelines::home`).
pub async fn home_feeds(db: &Db, keep: i64) -> Result<u64> {
    let long: Vec<i64> = on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT account_id FROM home_feed GROUP BY account_id HAVING COUNT(*) > $1 LIMIT 100",
        )
        .bind(keep)
        .fetch_all(pool)
        .await?
    });
    let mut deleted = 0;
    for account_id in long {
        deleted += on_db!(db, pool => {
            sqlx::query(
                "DELETE FROM home_feed WHERE account_id = $1 AND status_id IN (\
                   SELECT status_id FROM home_feed WHERE account_id = $1 AND status_id < (\
                     SELECT status_id FROM home_feed WHERE account_id = $1 \
                     ORDER BY status_id DESC LIMIT 1 OFFSET $2) \
                   ORDER BY status_id LIMIT $3)",
            )
            .bind(account_id)
            .bind(keep - 1)
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected()
        });
    }
    Ok(deleted)
}

/// List timelines longer than `keep` entries lose their oldest, a batch at
/// a time. A list's timeline ends there, as Mastodon's do.
pub async fn list_feeds(db: &Db, keep: i64) -> Result<u64> {
    let long: Vec<i64> = on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT list_id FROM list_feed GROUP BY list_id HAVING COUNT(*) > $1 LIMIT 100",
        )
        .bind(keep)
        .fetch_all(pool)
        .await?
    });
    let mut deleted = 0;
    for list_id in long {
        deleted += on_db!(db, pool => {
            sqlx::query(
                "DELETE FROM list_feed WHERE list_id = $1 AND status_id IN (\
                   SELECT status_id FROM list_feed WHERE list_id = $1 AND status_id < (\
                     SELECT status_id FROM list_feed WHERE list_id = $1 \
                     ORDER BY status_id DESC LIMIT 1 OFFSET $2) \
                   ORDER BY status_id LIMIT $3)",
            )
            .bind(list_id)
            .bind(keep - 1)
            .bind(BATCH)
            .execute(pool)
            .await?
            .rows_affected()
        });
    }
    Ok(deleted)
}
