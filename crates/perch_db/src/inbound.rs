//! The inbound queue: verified activities waiting to be applied.
//!
//! The inbox stores each activity here and answers at once; workers in
//! every process claim due rows with a lease (`SKIP LOCKED` on PostgreSQL),
//! apply them and delete them. A row is not claimed while an older row of
//! the same actor is still queued, so a Create is applied before its Update
//! and Delete, a Follow before its Undo, and an actor's posts in order. A process that dies holding a lease leaves its rows
//! to be claimed again once the lease expires; the change a row causes
//! records the activity's id in its own transaction, so applying a row
//! twice changes nothing the second time.

use perch_core::time::UnixMillis;

use crate::{Db, Result};

/// An activity to queue.
#[derive(Clone, Debug)]
pub struct NewInbound<'a> {
    pub id: i64,
    pub uri: &'a str,
    /// The verified actor: its rows are applied in order.
    pub actor_account_id: i64,
    pub body: &'a str,
    pub received_at: UnixMillis,
}

/// A claimed row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InboundRow {
    pub id: i64,
    pub uri: String,
    pub actor_account_id: i64,
    pub body: String,
    pub attempts: i32,
    pub received_at: i64,
}

/// The statement that queues one activity unless it is queued or was
/// applied already.
const ENQUEUE: &str = "INSERT INTO inbound_activities (id, uri, actor_account_id, body, \
     next_attempt_at, received_at) \
     SELECT $1, $2, $3, $4, $5, $5 \
     WHERE NOT EXISTS (SELECT 1 FROM received_activities WHERE uri = $2) \
     ON CONFLICT (uri) DO NOTHING";

/// Queue an activity. False when it is queued already or was applied
/// before (a redelivery).
pub async fn enqueue(db: &Db, new: &NewInbound<'_>) -> Result<bool> {
    let inserted = on_db!(db, pool => {
        sqlx::query(ENQUEUE)
            .bind(new.id)
            .bind(new.uri)
            .bind(new.actor_account_id)
            .bind(new.body)
            .bind(new.received_at)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(inserted == 1)
}

/// Queue several activities in one transaction (one commit, and on SQLite
/// one turn of the write lock, for all): for each, whether it was queued
/// (false for a redelivery, as [`enqueue`]).
pub async fn enqueue_all(db: &Db, batch: &[NewInbound<'_>]) -> Result<Vec<bool>> {
    if let [one] = batch {
        return Ok(vec![enqueue(db, one).await?]);
    }
    let mut tx = db.begin().await?;
    let mut queued = Vec::with_capacity(batch.len());
    for new in batch {
        let inserted = on_tx!(&mut tx, conn => {
            sqlx::query(ENQUEUE)
                .bind(new.id)
                .bind(new.uri)
                .bind(new.actor_account_id)
                .bind(new.body)
                .bind(new.received_at)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        queued.push(inserted == 1);
    }
    tx.commit().await?;
    Ok(queued)
}

/// Claim up to `limit` due rows for `owner` until `lease_until`, oldest
/// first, skipping rows behind an older row of the same actor.
pub async fn claim_due(
    db: &Db,
    owner: &str,
    now: UnixMillis,
    lease_until: UnixMillis,
    limit: i64,
) -> Result<Vec<InboundRow>> {
    Ok(match db {
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT q.id FROM inbound_activities q \
                 WHERE q.next_attempt_at <= $1 \
                   AND (q.lease_expires_at IS NULL OR q.lease_expires_at < $1) \
                   AND NOT EXISTS (SELECT 1 FROM inbound_activities o \
                                   WHERE o.actor_account_id = q.actor_account_id AND o.id < q.id) \
                 ORDER BY q.id LIMIT $2 \
                 FOR UPDATE OF q SKIP LOCKED",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let rows = sqlx::query_as(
                "UPDATE inbound_activities SET lease_owner = $1, lease_expires_at = $2 \
                 WHERE id = ANY($3) \
                 RETURNING id, uri, actor_account_id, body, attempts, received_at",
            )
            .bind(owner)
            .bind(lease_until)
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            rows
        }
        Db::Sqlite(pool) => {
            sqlx::query_as(
                "UPDATE inbound_activities SET lease_owner = $1, lease_expires_at = $2 \
                 WHERE id IN (SELECT q.id FROM inbound_activities q \
                   WHERE q.next_attempt_at <= $3 \
                     AND (q.lease_expires_at IS NULL OR q.lease_expires_at < $3) \
                     AND NOT EXISTS (SELECT 1 FROM inbound_activities o \
                                     WHERE o.actor_account_id = q.actor_account_id AND o.id < q.id) \
                   ORDER BY q.id LIMIT $4) \
                 RETURNING id, uri, actor_account_id, body, attempts, received_at",
            )
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    })
}

/// Keep a claimed row `owner`'s until `lease_until`.
pub async fn renew_lease(db: &Db, id: i64, owner: &str, lease_until: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE inbound_activities SET lease_expires_at = $1 \
             WHERE id = $2 AND lease_owner = $3",
        )
        .bind(lease_until)
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Rows done with, in one statement: the workers settle what they applied
/// in batches.
pub async fn remove_many(db: &Db, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    match db {
        Db::Sqlite(pool) => {
            sqlx::query(
                "DELETE FROM inbound_activities WHERE id IN (SELECT value FROM json_each($1))",
            )
            .bind(crate::pool::json_ids(ids))
            .execute(pool)
            .await?;
        }
        Db::Postgres(pool) => {
            sqlx::query("DELETE FROM inbound_activities WHERE id = ANY($1)")
                .bind(ids)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// Applying failed for a reason that may pass: try again at `retry_at`.
pub async fn retry_later(
    db: &Db,
    id: i64,
    owner: &str,
    error: &str,
    retry_at: UnixMillis,
) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE inbound_activities SET attempts = attempts + 1, last_error = $1, \
             next_attempt_at = $2, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(error)
        .bind(retry_at)
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Rows waiting to be applied, and how many of them failed before and
/// wait for another attempt.
pub async fn stats(db: &Db) -> Result<(i64, i64)> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0) \
             FROM inbound_activities",
        )
        .fetch_one(pool)
        .await?
    }))
}

/// Rows waiting (due or not, claimed or not).
pub async fn pending_count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM inbound_activities")
            .fetch_one(pool)
            .await?
    }))
}
