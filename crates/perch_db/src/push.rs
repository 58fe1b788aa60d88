//! Web Push: the server's VAPID key pair, each session's subscription, and
//! the persistent queue of pushes, one job per (subscription,
//! notification), made in the notification's own transaction (see
//! [`enqueue_for`]) and settled by the push worker.

use perch_core::time::UnixMillis;

use crate::{Db, Result, Tx};

/// The server's VAPID key pair.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct VapidKeyRow {
    /// PKCS#8 DER, base64.
    pub private_key: String,
    /// The uncompressed P-256 point, base64url without padding.
    pub public_key: String,
}

/// The key pair, when one was made.
pub async fn vapid_key(db: &Db) -> Result<Option<VapidKeyRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as("SELECT private_key, public_key FROM vapid_keys WHERE id = 1")
            .fetch_optional(pool)
            .await?
    }))
}

/// Keep `key` unless a pair is kept already (another process made it
/// first); the caller reads back the one that stands.
pub async fn insert_vapid_key(db: &Db, key: &VapidKeyRow, now: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO vapid_keys (id, private_key, public_key, created_at) \
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&key.private_key)
        .bind(&key.public_key)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// A session's push subscription.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub session_id: i64,
    pub account_id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// `,mention,follow,`: the notification types pushed.
    pub alerts: String,
    pub policy: String,
    pub standard: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! subscription_columns {
    () => {
        "id, session_id, account_id, endpoint, p256dh, auth, alerts, policy, standard, \
         created_at, updated_at"
    };
}

/// Subscribe `row.session_id`, replacing its subscription if it had one
/// (a new endpoint or keys); the row that stands.
pub async fn subscribe(db: &Db, row: &SubscriptionRow) -> Result<SubscriptionRow> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "INSERT INTO push_subscriptions (", subscription_columns!(), ") \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (session_id) DO UPDATE SET endpoint = excluded.endpoint, \
               p256dh = excluded.p256dh, auth = excluded.auth, alerts = excluded.alerts, \
               policy = excluded.policy, standard = excluded.standard, \
               updated_at = excluded.updated_at \
             RETURNING ", subscription_columns!()
        ))
        .bind(row.id)
        .bind(row.session_id)
        .bind(row.account_id)
        .bind(&row.endpoint)
        .bind(&row.p256dh)
        .bind(&row.auth)
        .bind(&row.alerts)
        .bind(&row.policy)
        .bind(row.standard)
        .bind(row.created_at)
        .bind(row.updated_at)
        .fetch_one(pool)
        .await?
    }))
}

/// The subscription of a session.
pub async fn of_session(db: &Db, session_id: i64) -> Result<Option<SubscriptionRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", subscription_columns!(), " FROM push_subscriptions WHERE session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// A subscription by id.
pub async fn find(db: &Db, id: i64) -> Result<Option<SubscriptionRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", subscription_columns!(), " FROM push_subscriptions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Change what a session's subscription pushes; the row, if it has one.
pub async fn set_alerts(
    db: &Db,
    session_id: i64,
    alerts: &str,
    policy: &str,
    now: UnixMillis,
) -> Result<Option<SubscriptionRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "UPDATE push_subscriptions SET alerts = $2, policy = $3, updated_at = $4 \
             WHERE session_id = $1 RETURNING ", subscription_columns!()
        ))
        .bind(session_id)
        .bind(alerts)
        .bind(policy)
        .bind(now)
        .fetch_optional(pool)
        .await?
    }))
}

/// End a session's subscription; whether it had one.
pub async fn unsubscribe(db: &Db, session_id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM push_subscriptions WHERE session_id = $1")
            .bind(session_id)
            .execute(pool)
            .await?
            .rows_affected()
    }) > 0)
}

/// End a subscription (its push service said it is gone), with its jobs.
pub async fn remove(db: &Db, id: i64) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Queue a push of the new notification `notification_id` (of `kind`, to
/// `account_id`, caused by `from`) for each live session of the account
/// whose subscription wants that type from that account (`policy`: from
/// anyone, from those it follows, from its followers, from nobody).
pub async fn enqueue_for(
    tx: &mut Tx,
    notification_id: i64,
    account_id: i64,
    from: i64,
    kind: &str,
    now: UnixMillis,
) -> Result<u64> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO push_deliveries (subscription_id, notification_id, next_attempt_at) \
             SELECT s.id, $1, $5 FROM push_subscriptions s \
             JOIN oauth_sessions o ON o.id = s.session_id AND o.revoked_at IS NULL \
             WHERE s.account_id = $2 AND s.alerts LIKE '%,' || $4 || ',%' \
             AND (s.policy = 'all' \
               OR (s.policy = 'followed' AND EXISTS (SELECT 1 FROM follows f \
                 WHERE f.account_id = $2 AND f.target_account_id = $3)) \
               OR (s.policy = 'follower' AND EXISTS (SELECT 1 FROM follows f \
                 WHERE f.account_id = $3 AND f.target_account_id = $2))) \
             ON CONFLICT DO NOTHING",
        )
        .bind(notification_id)
        .bind(account_id)
        .bind(from)
        .bind(kind)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }))
}

/// A push to make.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PushJob {
    pub subscription_id: i64,
    pub notification_id: i64,
    pub attempts: i32,
}

/// Claim up to `limit` due pushes until `until` (a worker that dies lets
/// them go when the claim lapses).
pub async fn claim_due(
    db: &Db,
    now: UnixMillis,
    until: UnixMillis,
    limit: i64,
) -> Result<Vec<PushJob>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "UPDATE push_deliveries SET claimed_until = $2 \
             WHERE (subscription_id, notification_id) IN ( \
               SELECT subscription_id, notification_id FROM push_deliveries \
               WHERE next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
               ORDER BY next_attempt_at LIMIT $3) \
             AND (claimed_until IS NULL OR claimed_until < $1) \
             RETURNING subscription_id, notification_id, attempts",
        )
        .bind(now)
        .bind(until)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// The push was made, or will never be: the job goes.
pub async fn settle(db: &Db, job: &PushJob) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM push_deliveries WHERE subscription_id = $1 AND notification_id = $2",
        )
        .bind(job.subscription_id)
        .bind(job.notification_id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Try the push again at `at`.
pub async fn retry(db: &Db, job: &PushJob, at: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE push_deliveries SET attempts = attempts + 1, next_attempt_at = $3, \
             claimed_until = NULL WHERE subscription_id = $1 AND notification_id = $2",
        )
        .bind(job.subscription_id)
        .bind(job.notification_id)
        .bind(at)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Pushes waiting (`perch queue stats`).
pub async fn pending(db: &Db) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM push_deliveries")
            .fetch_one(pool)
            .await?
    }))
}
