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
    /// When the job was enqueued.
    pub created_at: i64,
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
                   AND NOT EXISTS (SELECT 1 FROM delivery_hosts h WHERE h.host = d.host \
                                   AND h.circuit_open_until > $1) \
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
                     AND NOT EXISTS (SELECT 1 FROM delivery_hosts h WHERE h.host = d.host \
                                     AND h.circuit_open_until > $3) \
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
            "SELECT d.id, d.created_at, d.inbox_url, d.host, d.attempts, a.actor_account_id, \
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

/// Keep a claimed job ours until `lease_until` (a worker renews its lease
/// as it starts each request).
pub async fn renew_lease(db: &Db, id: i64, owner: &str, lease_until: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE deliveries SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3",
        )
        .bind(lease_until)
        .bind(id)
        .bind(owner)
        .execute(pool)
        .await?;
    });
    Ok(())
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

/// Record that an inbox is gone (410 or 404).
pub async fn mark_inbox_gone(db: &Db, inbox_url: &str, now: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO gone_inboxes (inbox_url, gone_at) VALUES ($1, $2) \
             ON CONFLICT (inbox_url) DO NOTHING",
        )
        .bind(inbox_url)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Which of `inboxes` are gone.
pub async fn gone_among(db: &Db, inboxes: &[String]) -> Result<Vec<String>> {
    let mut gone = Vec::new();
    for inbox in inboxes {
        let found: Option<String> = on_db!(db, pool => {
            sqlx::query_scalar("SELECT inbox_url FROM gone_inboxes WHERE inbox_url = $1")
                .bind(inbox)
                .fetch_optional(pool)
                .await?
        });
        gone.extend(found);
    }
    Ok(gone)
}

/// An actor was heard from (a verified activity of theirs arrived): its
/// inboxes are not gone, and its server is available again.
pub async fn heard_from(db: &Db, account_id: i64, host: &str) -> Result<()> {
    // Almost always nothing is wrong: a read finds that out without taking
    // the write lock (SQLite has one for the whole database).
    let troubled: bool = on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM gone_inboxes g JOIN accounts a \
                            ON a.inbox_url = g.inbox_url WHERE a.id = $1) \
                 OR EXISTS (SELECT 1 FROM delivery_hosts h WHERE h.host = $2 \
                            AND (h.consecutive_failures > 0 OR h.circuit_open_until IS NOT NULL \
                                 OR h.unavailable_since IS NOT NULL))",
        )
        .bind(account_id)
        .bind(host)
        .fetch_one(pool)
        .await?
    });
    if !troubled {
        return Ok(());
    }
    on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM gone_inboxes WHERE inbox_url IN \
             (SELECT inbox_url FROM accounts WHERE id = $1 AND inbox_url IS NOT NULL)",
        )
        .bind(account_id)
        .execute(pool)
        .await?;
        sqlx::query(
            "UPDATE delivery_hosts SET consecutive_failures = 0, failing_since = NULL, \
             circuit_open_until = NULL, unavailable_since = NULL \
             WHERE host = $1 AND (consecutive_failures > 0 OR circuit_open_until IS NOT NULL \
                                  OR unavailable_since IS NOT NULL)",
        )
        .bind(host)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// What the queue knows of a server.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct HostState {
    pub host: String,
    pub consecutive_failures: i32,
    pub failing_since: Option<i64>,
    pub circuit_open_until: Option<i64>,
    pub unavailable_since: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_failure_at: Option<i64>,
}

/// A server answered: its failures are forgotten.
pub async fn host_succeeded(db: &Db, host: &str, now: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO delivery_hosts (host, last_success_at) VALUES ($1, $2) \
             ON CONFLICT (host) DO UPDATE SET consecutive_failures = 0, failing_since = NULL, \
             circuit_open_until = NULL, unavailable_since = NULL, last_success_at = $2",
        )
        .bind(host)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// A server failed (unreachable, 5xx, 429); returns its state after.
pub async fn host_failed(db: &Db, host: &str, now: UnixMillis) -> Result<HostState> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "INSERT INTO delivery_hosts (host, consecutive_failures, failing_since, \
             last_failure_at) VALUES ($1, 1, $2, $2) \
             ON CONFLICT (host) DO UPDATE SET \
               consecutive_failures = delivery_hosts.consecutive_failures + 1, \
               failing_since = COALESCE(delivery_hosts.failing_since, $2), \
               last_failure_at = $2 \
             RETURNING host, consecutive_failures, failing_since, circuit_open_until, \
               unavailable_since, last_success_at, last_failure_at",
        )
        .bind(host)
        .bind(now)
        .fetch_one(pool)
        .await?
    }))
}

/// Stop attempting a server until `until`; `unavailable` marks a long
/// outage (kept until the server answers or is heard from).
pub async fn open_circuit(
    db: &Db,
    host: &str,
    until: UnixMillis,
    unavailable_since: Option<UnixMillis>,
) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE delivery_hosts SET circuit_open_until = $1, \
             unavailable_since = COALESCE(unavailable_since, $2) WHERE host = $3",
        )
        .bind(until)
        .bind(unavailable_since)
        .bind(host)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Make pending jobs (of one server, or all) due now, and give failed
/// ones (given up on) another try: an operator's "the server is back".
/// Returns how many jobs were touched.
pub async fn retry_now(db: &Db, host: Option<&str>, now: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        let jobs = sqlx::query(
            "UPDATE deliveries SET state = 0, next_attempt_at = $1, finished_at = NULL \
             WHERE state <> 1 AND ($2 IS NULL OR host = $2)",
        )
        .bind(now)
        .bind(host)
        .execute(pool)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE delivery_hosts SET circuit_open_until = NULL WHERE ($1 IS NULL OR host = $1)",
        )
        .bind(host)
        .execute(pool)
        .await?;
        jobs
    }))
}

/// Queue totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub pending: i64,
    /// Pending jobs claimed by a worker right now.
    pub in_flight: i64,
    pub delivered: i64,
    pub failed: i64,
}

/// Per-server counts and state.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HostStats {
    pub host: String,
    pub pending: i64,
    pub failed: i64,
    pub consecutive_failures: Option<i32>,
    pub circuit_open_until: Option<i64>,
    pub unavailable_since: Option<i64>,
}

pub async fn stats(db: &Db, now: UnixMillis) -> Result<(Stats, Vec<HostStats>)> {
    Ok(on_db!(db, pool => {
        let (pending, in_flight, delivered, failed): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT \
               COALESCE(SUM(CASE WHEN state = 0 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN state = 0 AND lease_expires_at >= $1 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN state = 1 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN state = 2 THEN 1 ELSE 0 END), 0) \
             FROM deliveries",
        )
        .bind(now)
        .fetch_one(pool)
        .await?;
        let hosts: Vec<HostStats> = sqlx::query_as(
            "SELECT d.host, \
               COALESCE(SUM(CASE WHEN d.state = 0 THEN 1 ELSE 0 END), 0) AS pending, \
               COALESCE(SUM(CASE WHEN d.state = 2 THEN 1 ELSE 0 END), 0) AS failed, \
               h.consecutive_failures, h.circuit_open_until, h.unavailable_since \
             FROM deliveries d LEFT JOIN delivery_hosts h ON h.host = d.host \
             GROUP BY d.host, h.consecutive_failures, h.circuit_open_until, h.unavailable_since \
             HAVING SUM(CASE WHEN d.state <> 1 THEN 1 ELSE 0 END) > 0 \
             ORDER BY d.host",
        )
        .fetch_all(pool)
        .await?;
        (Stats { pending, in_flight, delivered, failed }, hosts)
    }))
}
