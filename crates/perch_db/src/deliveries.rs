//! The persistent delivery queue (transactional outbox).
//!
//! An outbound activity is stored once, with one delivery job per target
//! inbox, in the same transaction as the change that caused it. Workers
//! claim due jobs under a lease: on PostgreSQL with `FOR UPDATE SKIP
//! LOCKED`, so several processes share the work without taking the same
//! job; on SQLite the single writer serialises claims. A job whose lease
//! expired (its process died) is claimed again, so nothing is lost; the
//! receiver deduplicates by activity id, so nothing is applied twice.

use perch_core::time::UnixMillis;

use crate::{Db, Result, Tx};

/// An activity to publish.
#[derive(Clone, Debug)]
pub struct NewActivity {
    pub id: i64,
    pub uri: String,
    pub actor_account_id: i64,
    /// The JSON document as it will be sent.
    pub body: String,
    pub created_at: UnixMillis,
}

/// A target inbox and its host (for per-host limits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub delivery_id: i64,
    pub inbox_url: String,
    pub host: String,
}

/// A claimed job.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub inbox_url: String,
    pub host: String,
    pub attempts: i32,
    pub actor_account_id: i64,
    pub activity_uri: String,
    pub body: String,
}

/// Store the activity and its jobs. Call inside the transaction that makes
/// the change the activity announces.
pub async fn enqueue(tx: &mut Tx, activity: &NewActivity, targets: &[Target]) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO outbound_activities (id, uri, actor_account_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(activity.id)
        .bind(&activity.uri)
        .bind(activity.actor_account_id)
        .bind(&activity.body)
        .bind(activity.created_at)
        .execute(&mut *conn)
        .await?;
        for target in targets {
            sqlx::query(
                "INSERT INTO deliveries (id, activity_id, inbox_url, host, next_attempt_at, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
            )
            .bind(target.delivery_id)
            .bind(activity.id)
            .bind(&target.inbox_url)
            .bind(&target.host)
            .bind(activity.created_at)
            .execute(&mut *conn)
            .await?;
        }
    });
    Ok(())
}

/// Claim up to `limit` due jobs for `owner` until `lease_until`. Jobs of one
/// inbox are handed out oldest first, and a job is not claimed while an
/// older one for the same inbox is still pending, so that a Follow reaches
/// a server before its Undo.
pub async fn claim_due(
    db: &Db,
    owner: &str,
    now: UnixMillis,
    lease_until: UnixMillis,
    limit: i64,
) -> Result<Vec<Job>> {
    let ids: Vec<i64> = match db {
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT d.id FROM deliveries d \
                 WHERE d.state = 0 AND d.next_attempt_at <= $1 \
                   AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $1) \
                   AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.inbox_url = d.inbox_url \
                                   AND o.state = 0 AND o.id < d.id) \
                 ORDER BY d.next_attempt_at, d.id LIMIT $2 \
                 FOR UPDATE OF d SKIP LOCKED",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE deliveries SET lease_owner = $1, lease_expires_at = $2 \
                 WHERE id = ANY($3)",
            )
            .bind(owner)
            .bind(lease_until)
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            ids
        }
        Db::Sqlite(pool) => {
            sqlx::query_scalar(
                "UPDATE deliveries SET lease_owner = $1, lease_expires_at = $2 \
                 WHERE id IN (SELECT d.id FROM deliveries d \
                   WHERE d.state = 0 AND d.next_attempt_at <= $3 \
                     AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $3) \
                     AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.inbox_url = d.inbox_url \
                                     AND o.state = 0 AND o.id < d.id) \
                   ORDER BY d.next_attempt_at, d.id LIMIT $4) \
                 RETURNING id",
            )
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The lease (owner and expiry) names exactly the jobs just claimed.
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT d.id, d.inbox_url, d.host, d.attempts, a.actor_account_id, \
             a.uri AS activity_uri, a.body \
             FROM deliveries d JOIN outbound_activities a ON a.id = d.activity_id \
             WHERE d.lease_owner = $1 AND d.lease_expires_at = $2 AND d.state = 0 \
             ORDER BY d.id",
        )
        .bind(owner)
        .bind(lease_until)
        .fetch_all(pool)
        .await?
    }))
}

/// The job reached its inbox.
pub async fn mark_delivered(
    db: &Db,
    id: i64,
    owner: &str,
    status: i32,
    now: UnixMillis,
) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE deliveries SET state = 1, attempts = attempts + 1, last_status = $1, \
             finished_at = $2, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(status)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// The attempt failed; try again at `retry_at`, or give up when `None`.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    owner: &str,
    status: Option<i32>,
    error: &str,
    retry_at: Option<UnixMillis>,
    now: UnixMillis,
) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE deliveries SET attempts = attempts + 1, last_status = $1, last_error = $2, \
               state = CASE WHEN $3 IS NULL THEN 2 ELSE 0 END, \
               next_attempt_at = COALESCE($3, next_attempt_at), \
               finished_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END, \
               lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $5 AND lease_owner = $6",
        )
        .bind(status)
        .bind(error)
        .bind(retry_at)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Jobs not yet delivered nor given up on.
pub async fn pending_count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE state = 0")
            .fetch_one(pool)
            .await?
    }))
}
