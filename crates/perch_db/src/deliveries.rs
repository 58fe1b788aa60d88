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

use serde_json::{Value, json};

use crate::{Db, Result, Tx};

/// Texts as the JSON array SQLite's `json_each` reads.
fn json_texts(texts: &[String]) -> String {
    Value::from(texts.to_vec()).to_string()
}

/// An activity to publish.
#[derive(Clone, Debug)]
pub struct NewActivity {
    pub id: i64,
    pub uri: String,
    pub actor_account_id: i64,
    /// The JSON document as it will be sent.
    pub body: String,
    pub created_at: UnixMillis,
    /// What the activity is about, for ordering: jobs of one inbox with the
    /// same key go out in the order they were enqueued (a note's Create
    /// before its Update and Delete, a Follow before its Undo), and jobs
    /// with other keys go out independently of them.
    pub order_key: String,
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
    /// The inbox answered 404 or 410 before: the job fails without a
    /// request.
    pub inbox_gone: bool,
}

/// `next_attempt_at` of a *parked* job: one enqueued while its inbox had
/// a pending job with the same order key (it must wait for that one), or a
/// pending job of any key that was due (being attempted, or about to be).
/// Parking keeps it out of the range of due jobs that every claim reads,
/// so that a long backlog to one inbox costs claims nothing: an inbox's
/// backlog goes out a job or so at a time, as its earlier jobs end.
///
/// Any outcome of an attempt, a retry scheduled included, unparks the
/// next parked job of the inbox that has no older pending job with its key
/// ([`UNPARK_NEXT`]): a job that keeps failing holds back the later jobs
/// about its object, and nothing else for more than one attempt.
/// [`unpark_orphans`] is the safety net. The claim's order check stays, so
/// parking is never what keeps the order.
pub const PARKED: UnixMillis = i64::MAX;

/// Whether a job for inbox `t.inbox` with order key `$k`, enqueued at `$now`,
/// is parked: its inbox has an older pending job with that key, or a
/// pending job that is due. `$k` and `$now` stand for the statement's
/// parameters.
macro_rules! park_if {
    ($k:literal, $now:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM deliveries o WHERE o.inbox_url = t.inbox \
               AND o.order_key = ",
            $k,
            " AND o.state = 0) \
             OR EXISTS (SELECT 1 FROM deliveries o WHERE o.inbox_url = t.inbox \
               AND o.state = 0 AND o.next_attempt_at <= ",
            $now,
            ")"
        )
    };
}

/// Store the activity and its jobs. Call inside the transaction that makes
/// the change the activity announces. The jobs are written by one
/// statement, each parked if its inbox already has a pending job with the
/// activity's order key.
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
    });
    if targets.is_empty() {
        return Ok(());
    }
    match tx {
        Tx::Sqlite(tx) => {
            let rows: Value = targets
                .iter()
                .map(|t| json!([t.delivery_id, t.inbox_url, t.host]))
                .collect();
            let rows = rows.to_string();
            sqlx::query(concat!(
                "INSERT INTO deliveries (id, activity_id, inbox_url, host, next_attempt_at, \
                 created_at, order_key) \
                 SELECT t.id, $1, t.inbox, t.host, CASE WHEN ",
                park_if!("$5", "$2"),
                " THEN $3 ELSE $2 END, $2, $5 \
                 FROM (SELECT json_extract(value, '$[0]') AS id, \
                         json_extract(value, '$[1]') AS inbox, \
                         json_extract(value, '$[2]') AS host FROM json_each($4)) t \
                 WHERE true ON CONFLICT DO NOTHING",
            ))
            .bind(activity.id)
            .bind(activity.created_at)
            .bind(PARKED)
            .bind(rows)
            .bind(&activity.order_key)
            .execute(&mut **tx)
            .await?;
        }
        Tx::Postgres(tx) => {
            let ids: Vec<i64> = targets.iter().map(|t| t.delivery_id).collect();
            let inboxes: Vec<&str> = targets.iter().map(|t| t.inbox_url.as_str()).collect();
            let hosts: Vec<&str> = targets.iter().map(|t| t.host.as_str()).collect();
            sqlx::query(concat!(
                "INSERT INTO deliveries (id, activity_id, inbox_url, host, next_attempt_at, \
                 created_at, order_key) \
                 SELECT t.id, $1, t.inbox, t.host, CASE WHEN ",
                park_if!("$7", "$2"),
                " THEN $3 ELSE $2 END, $2, $7 \
                 FROM unnest($4::bigint[], $5::text[], $6::text[]) AS t (id, inbox, host) \
                 ON CONFLICT DO NOTHING",
            ))
            .bind(activity.id)
            .bind(activity.created_at)
            .bind(PARKED)
            .bind(ids)
            .bind(inboxes)
            .bind(hosts)
            .bind(&activity.order_key)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Claim up to `limit` due jobs for `owner` until `lease_until`. A job is
/// not claimed while an older one for the same inbox and order key is still
/// pending, so that a Follow reaches a server before its Undo; jobs with
/// other keys do not wait for it, so one that a server keeps refusing
/// delays nothing else.
pub async fn claim_due(
    db: &Db,
    owner: &str,
    now: UnixMillis,
    lease_until: UnixMillis,
    limit: i64,
) -> Result<Vec<Job>> {
    claim(db, owner, now, lease_until, limit, &[], limit).await
}

/// Due jobs read by one claim, per job it may return: enough that a few
/// hosts at their limit do not leave a claim short.
const SCAN_PER_JOB: i64 = 4;

/// [`claim_due`] for a worker that limits requests per server: no job of
/// the hosts in `busy` (at their limit already), and at most `per_host`
/// jobs of any other host. Reads at most `limit` × 4 due jobs, oldest
/// first, whatever the size of the queue: parked jobs are outside the due
/// range, so a long backlog to one inbox adds only its next jobs.
pub async fn claim(
    db: &Db,
    owner: &str,
    now: UnixMillis,
    lease_until: UnixMillis,
    limit: i64,
    busy: &[String],
    per_host: i64,
) -> Result<Vec<Job>> {
    let scan = limit.saturating_mul(SCAN_PER_JOB);
    let pool = match db {
        Db::Postgres(pool) => {
            // One statement, so one round trip and one commit: the due jobs
            // are locked, chosen, leased and read with their activities.
            let mut jobs: Vec<Job> = sqlx::query_as(
                "WITH candidates AS ( \
                   SELECT d.id, d.host, d.next_attempt_at FROM deliveries d \
                   WHERE d.state = 0 AND d.next_attempt_at <= $1 \
                     AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $1) \
                     AND NOT (d.host = ANY($3)) \
                     AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.inbox_url = d.inbox_url \
                                     AND o.order_key = d.order_key AND o.state = 0 \
                                     AND o.id < d.id) \
                     AND NOT EXISTS (SELECT 1 FROM delivery_hosts h WHERE h.host = d.host \
                                     AND h.circuit_open_until > $1) \
                   ORDER BY d.next_attempt_at, d.id LIMIT $4 \
                   FOR UPDATE OF d SKIP LOCKED), \
                 chosen AS ( \
                   SELECT id FROM (SELECT id, next_attempt_at, ROW_NUMBER() OVER \
                     (PARTITION BY host ORDER BY next_attempt_at, id) AS n FROM candidates) r \
                   WHERE n <= $5 ORDER BY next_attempt_at, id LIMIT $2) \
                 UPDATE deliveries d SET lease_owner = $6, lease_expires_at = $7 \
                 FROM chosen c, outbound_activities a \
                 WHERE d.id = c.id AND a.id = d.activity_id \
                 RETURNING d.id, d.created_at, d.inbox_url, d.host, d.attempts, \
                   a.actor_account_id, a.uri AS activity_uri, a.body, \
                   EXISTS (SELECT 1 FROM gone_inboxes g WHERE g.inbox_url = d.inbox_url) \
                     AS inbox_gone",
            )
            .bind(now)
            .bind(limit)
            .bind(busy)
            .bind(scan)
            .bind(per_host)
            .bind(owner)
            .bind(lease_until)
            .fetch_all(pool)
            .await?;
            jobs.sort_unstable_by_key(|job| job.id);
            return Ok(jobs);
        }
        Db::Sqlite(pool) => pool,
    };
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE deliveries SET lease_owner = $1, lease_expires_at = $2 \
         WHERE id IN (SELECT id FROM (SELECT id, next_attempt_at, ROW_NUMBER() OVER \
             (PARTITION BY host ORDER BY next_attempt_at, id) AS n \
           FROM (SELECT d.id, d.host, d.next_attempt_at FROM deliveries d \
             WHERE d.state = 0 AND d.next_attempt_at <= $3 \
               AND (d.lease_expires_at IS NULL OR d.lease_expires_at < $3) \
               AND d.host NOT IN (SELECT value FROM json_each($5)) \
               AND NOT EXISTS (SELECT 1 FROM deliveries o \
                               WHERE o.inbox_url = d.inbox_url \
                               AND o.order_key = d.order_key \
                               AND o.state = 0 AND o.id < d.id) \
               AND NOT EXISTS (SELECT 1 FROM delivery_hosts h WHERE h.host = d.host \
                               AND h.circuit_open_until > $3) \
             ORDER BY d.next_attempt_at, d.id LIMIT $6)) \
           WHERE n <= $7 ORDER BY next_attempt_at, id LIMIT $4) \
         RETURNING id",
    )
    .bind(owner)
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .bind(json_texts(busy))
    .bind(scan)
    .bind(per_host)
    .fetch_all(pool)
    .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // By id: a worker claims again while earlier jobs are in flight, and
    // two claims in one millisecond would share a lease expiry. (SQLite's
    // RETURNING cannot name the activity's columns.)
    Ok(sqlx::query_as(
        "SELECT d.id, d.created_at, d.inbox_url, d.host, d.attempts, a.actor_account_id, \
         a.uri AS activity_uri, a.body, \
         EXISTS (SELECT 1 FROM gone_inboxes g WHERE g.inbox_url = d.inbox_url) AS inbox_gone \
         FROM deliveries d JOIN outbound_activities a ON a.id = d.activity_id \
         WHERE d.id IN (SELECT value FROM json_each($1)) AND d.lease_owner = $2 \
           AND d.state = 0 ORDER BY d.id",
    )
    .bind(crate::pool::json_ids(&ids))
    .bind(owner)
    .fetch_all(pool)
    .await?)
}

/// Give claimed jobs back unattempted (a worker claimed more than a server
/// may take at once).
pub async fn release(db: &Db, owner: &str, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    match db {
        Db::Sqlite(pool) => {
            sqlx::query(
                "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL \
                 WHERE id IN (SELECT value FROM json_each($1)) AND lease_owner = $2",
            )
            .bind(crate::pool::json_ids(ids))
            .bind(owner)
            .execute(pool)
            .await?;
        }
        Db::Postgres(pool) => {
            sqlx::query(
                "UPDATE deliveries SET lease_owner = NULL, lease_expires_at = NULL \
                 WHERE id = ANY($1) AND lease_owner = $2",
            )
            .bind(ids)
            .bind(owner)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
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

/// The first parked job of inbox `f.inbox_url` that has no older pending
/// job with its order key, in a statement that names a job that ended its
/// attempt `f` and binds [`PARKED`] as `$p`.
/// With a second argument, a condition on `e`: jobs that it excludes do
/// not count as pending (for a statement that ends them itself, and so
/// still sees them pending).
macro_rules! next_parked_of {
    ($p:literal) => {
        next_parked_of!($p, "TRUE")
    };
    ($p:literal, $counts:literal) => {
        concat!(
            "(SELECT o.id FROM deliveries o WHERE o.inbox_url = f.inbox_url \
               AND o.state = 0 AND o.next_attempt_at = ",
            $p,
            " AND NOT EXISTS (SELECT 1 FROM deliveries e \
                 WHERE e.inbox_url = o.inbox_url AND e.order_key = o.order_key \
                 AND e.state = 0 AND e.id < o.id AND ",
            $counts,
            ") ORDER BY o.next_attempt_at, o.id LIMIT 1)"
        )
    };
}

/// Unparks the next job of the inbox of job `$1` that may go (see
/// [`PARKED`]); the statement is the same on both backends.
const UNPARK_NEXT: &str = concat!(
    "UPDATE deliveries SET next_attempt_at = created_at WHERE id = (SELECT ",
    next_parked_of!("$2"),
    " FROM deliveries f WHERE f.id = $1)"
);

/// The job reached its inbox.
pub async fn mark_delivered(
    db: &Db,
    id: i64,
    owner: &str,
    status: i32,
    now: UnixMillis,
) -> Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        let done = sqlx::query(
            "UPDATE deliveries SET state = 1, attempts = attempts + 1, last_status = $1, \
             finished_at = $2, lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $3 AND lease_owner = $4",
        )
        .bind(status)
        .bind(now)
        .bind(id)
        .bind(owner)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if done > 0 {
            sqlx::query(UNPARK_NEXT).bind(id).bind(PARKED).execute(&mut *conn).await?;
        }
    });
    tx.commit().await
}

/// Jobs that reached their inboxes, recorded in one transaction: each job
/// (id, HTTP status) delivered, each of `hosts` (theirs) up, and the next
/// parked job of each one's inbox that may go unparked.
pub async fn mark_all_delivered(
    db: &Db,
    owner: &str,
    delivered: &[(i64, i32)],
    hosts: &[String],
    now: UnixMillis,
) -> Result<()> {
    if delivered.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = delivered.iter().map(|(id, _)| *id).collect();
    match db {
        Db::Sqlite(pool) => {
            let mut statuses: Vec<i32> = delivered.iter().map(|(_, status)| *status).collect();
            statuses.sort_unstable();
            statuses.dedup();
            let mut tx = pool.begin_with(crate::pool::SQLITE_BEGIN_WRITE).await?;
            for status in statuses {
                let ids: Vec<i64> = delivered
                    .iter()
                    .filter(|(_, s)| *s == status)
                    .map(|(id, _)| *id)
                    .collect();
                sqlx::query(
                    "UPDATE deliveries SET state = 1, attempts = attempts + 1, \
                     last_status = $1, finished_at = $2, lease_owner = NULL, \
                     lease_expires_at = NULL \
                     WHERE id IN (SELECT value FROM json_each($3)) AND lease_owner = $4",
                )
                .bind(status)
                .bind(now)
                .bind(crate::pool::json_ids(&ids))
                .bind(owner)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO delivery_hosts (host, last_success_at) \
                 SELECT value, $2 FROM json_each($1) WHERE true \
                 ON CONFLICT (host) DO UPDATE SET consecutive_failures = 0, \
                 failing_since = NULL, circuit_open_until = NULL, unavailable_since = NULL, \
                 last_success_at = $2",
            )
            .bind(json_texts(hosts))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(concat!(
                "UPDATE deliveries SET next_attempt_at = created_at WHERE id IN (SELECT ",
                next_parked_of!("$2"),
                " FROM deliveries f WHERE f.id IN (SELECT value FROM json_each($1)))",
            ))
            .bind(crate::pool::json_ids(&ids))
            .bind(PARKED)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        Db::Postgres(pool) => {
            // One statement: the jobs settled, their servers up, and the
            // next parked jobs of their inboxes unparked. Its parts share a
            // snapshot, in which the settled jobs are still pending: the
            // unparking does not count them.
            let statuses: Vec<i32> = delivered.iter().map(|(_, status)| *status).collect();
            sqlx::query(concat!(
                "WITH done AS ( \
                   UPDATE deliveries d SET state = 1, attempts = d.attempts + 1, \
                     last_status = s.status, finished_at = $3, lease_owner = NULL, \
                     lease_expires_at = NULL \
                   FROM unnest($1::bigint[], $2::int[]) AS s(id, status) \
                   WHERE d.id = s.id AND d.lease_owner = $4 \
                   RETURNING d.id, d.inbox_url), \
                 up AS ( \
                   INSERT INTO delivery_hosts (host, last_success_at) \
                   SELECT h, $3 FROM unnest($5::text[]) AS h \
                   ON CONFLICT (host) DO UPDATE SET consecutive_failures = 0, \
                   failing_since = NULL, circuit_open_until = NULL, unavailable_since = NULL, \
                   last_success_at = $3) \
                 UPDATE deliveries SET next_attempt_at = created_at WHERE id IN (SELECT ",
                next_parked_of!("$6", "e.id NOT IN (SELECT id FROM done)"),
                " FROM done f)",
            ))
            .bind(&ids)
            .bind(&statuses)
            .bind(now)
            .bind(owner)
            .bind(hosts)
            .bind(PARKED)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// The attempt failed; try again at `retry_at`, or give up when `None`.
/// Either way the next parked job of its inbox that may go is unparked.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    owner: &str,
    status: Option<i32>,
    error: &str,
    retry_at: Option<UnixMillis>,
    now: UnixMillis,
) -> Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        let done = sqlx::query(
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
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if done > 0 {
            // Given up or to be retried, this job's attempt is over: the
            // next job of its inbox may go (not one about its object, if it
            // is to be retried).
            sqlx::query(UNPARK_NEXT).bind(id).bind(PARKED).execute(&mut *conn).await?;
        }
    });
    tx.commit().await
}

/// For each inbox with parked jobs and no due one (being attempted, or
/// about to be), unparks its first parked job that has no older pending
/// job with its order key; returns how many. The end of each attempt
/// unparks the next job in the same transaction; what this catches is
/// rarer: on PostgreSQL a job parked by a transaction that committed just
/// after its inbox's last attempt ended (which could not see it yet), or a
/// job whose predecessor was deleted with its author. Reads every parked
/// job, so a worker runs it now and then, not per claim.
pub async fn unpark_orphans(db: &Db, now: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        sqlx::query(
            "UPDATE deliveries SET next_attempt_at = created_at WHERE id IN ( \
               SELECT MIN(p.id) FROM deliveries p \
               WHERE p.state = 0 AND p.next_attempt_at = $1 \
                 AND NOT EXISTS (SELECT 1 FROM deliveries e \
                                 WHERE e.inbox_url = p.inbox_url \
                                 AND e.order_key = p.order_key \
                                 AND e.state = 0 AND e.id < p.id) \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d \
                                 WHERE d.inbox_url = p.inbox_url AND d.state = 0 \
                                 AND d.next_attempt_at <= $2) \
               GROUP BY p.inbox_url)",
        )
        .bind(PARKED)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    }))
}

/// Jobs not yet delivered nor given up on.
pub async fn pending_count(db: &Db) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE state = 0")
            .fetch_one(pool)
            .await?
    }))
}

/// On PostgreSQL, refresh the planner's statistics of `deliveries` when
/// the pending jobs outnumber what the planner expects several times over
/// (a first large fan-out, or a backlog grown since autovacuum last
/// looked); returns whether it did. Planned on stale statistics, a claim
/// reads and sorts every due job instead of walking `deliveries_due` in
/// order and stopping at its limit, so that its cost grows with the queue.
/// SQLite plans the claim on the index either way.
pub async fn refresh_statistics_if_stale(db: &Db) -> Result<bool> {
    let Db::Postgres(pool) = db else {
        return Ok(false);
    };
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE state = 0")
        .fetch_one(pool)
        .await?;
    if pending < STALE_MIN_PENDING {
        return Ok(false);
    }
    let plan: Vec<String> = sqlx::query_scalar("EXPLAIN SELECT 1 FROM deliveries WHERE state = 0")
        .fetch_all(pool)
        .await?;
    let expected = plan
        .first()
        .and_then(|line| planned_rows(line))
        .unwrap_or(0);
    if (pending as f64) < STALE_FACTOR * expected as f64 {
        return Ok(false);
    }
    sqlx::query("ANALYZE deliveries").execute(pool).await?;
    Ok(true)
}

/// The rows the top line of a text `EXPLAIN` expects (`… rows=N width=…`).
fn planned_rows(line: &str) -> Option<i64> {
    let (_, after) = line.split_once(" rows=")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Pending jobs beyond this many times the planner's expectation make its
/// statistics stale…
const STALE_FACTOR: f64 = 4.0;
/// …when there are at least this many (below it, any plan is cheap).
const STALE_MIN_PENDING: i64 = 2_000;

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

#[cfg(test)]
mod tests {
    use super::planned_rows;

    #[test]
    fn planned_rows_are_read_from_an_explain_line() {
        let line = "Index Only Scan using deliveries_due on deliveries  \
                    (cost=0.29..811.85 rows=10000 width=4)";
        assert_eq!(planned_rows(line), Some(10_000));
        assert_eq!(planned_rows("Seq Scan on deliveries"), None);
    }
}
