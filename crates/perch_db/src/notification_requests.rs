//! Notification requests (Mastodon 4.3): one per recipient and sender of
//! notifications the recipient's policy filtered. A request shows while it
//! has filtered notifications; accepting it turns them into ordinary ones
//! and lets the sender's later notifications through, dismissing it deletes
//! them.

use perch_core::time::UnixMillis;

use crate::notifications::NewNotification;
use crate::page::Page;
use crate::{Db, Result, Tx};

/// Counts stop here, as Mastodon's do: past it the number means nothing.
pub const MAX_MEANINGFUL_COUNT: i64 = 100;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub account_id: i64,
    pub from_account_id: i64,
    /// The sender's latest filtered mention (it may have been deleted).
    pub last_status_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Its filtered notifications, at most [`MAX_MEANINGFUL_COUNT`].
    pub notifications_count: i64,
}

/// Count the filtered notification `new` in its sender's request, opening
/// one if needed. The request takes the notification's id when it opens:
/// both are made at the same moment, and ids are unique.
pub(crate) async fn record(tx: &mut Tx, new: &NewNotification<'_>) -> Result<()> {
    // The status a request previews is the sender's own.
    let last_status = match new.kind {
        "mention" | "status" => new.status_id,
        _ => None,
    };
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO notification_requests (id, account_id, from_account_id, \
             last_status_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (account_id, from_account_id) DO UPDATE SET \
             last_status_id = COALESCE(excluded.last_status_id, \
               notification_requests.last_status_id), \
             updated_at = excluded.updated_at",
        )
        .bind(new.id)
        .bind(new.account_id)
        .bind(new.from_account_id)
        .bind(last_status)
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// The columns of [`RequestRow`] for the request `r`, and the condition
/// that it shows: it has filtered notifications, and its sender is not
/// suspended.
macro_rules! request_columns {
    () => {
        "r.id, r.account_id, r.from_account_id, r.last_status_id, r.created_at, r.updated_at, \
         (SELECT COUNT(*) FROM notifications n WHERE n.account_id = r.account_id \
           AND n.from_account_id = r.from_account_id AND n.filtered) AS notifications_count"
    };
}
macro_rules! request_shows {
    () => {
        "EXISTS (SELECT 1 FROM notifications n WHERE n.account_id = r.account_id \
           AND n.from_account_id = r.from_account_id AND n.filtered) \
         AND NOT EXISTS (SELECT 1 FROM accounts ra WHERE ra.id = r.from_account_id \
           AND ra.suspended_at IS NOT NULL)"
    };
}

fn capped(mut rows: Vec<RequestRow>) -> Vec<RequestRow> {
    for row in &mut rows {
        row.notifications_count = row.notifications_count.min(MAX_MEANINGFUL_COUNT);
    }
    rows
}

/// A page of `account_id`'s requests, newest first.
pub async fn page(db: &Db, account_id: i64, page: &Page) -> Result<Vec<RequestRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", request_columns!(), " FROM notification_requests r \
                     WHERE r.account_id = $1 AND r.id > $2 AND r.id < $3 AND ",
                    request_shows!(), " ORDER BY r.id ", $order, " LIMIT $4"
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
    Ok(page.finish(capped(rows)))
}

/// `account_id`'s request `id`, if it shows.
pub async fn find(db: &Db, account_id: i64, id: i64) -> Result<Option<RequestRow>> {
    let row: Option<RequestRow> = on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", request_columns!(), " FROM notification_requests r \
             WHERE r.account_id = $1 AND r.id = $2 AND ", request_shows!()
        ))
        .bind(account_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
    });
    Ok(row.map(|r| capped(vec![r])).and_then(|mut v| v.pop()))
}

/// The pending requests and their filtered notifications (each count at
/// most [`MAX_MEANINGFUL_COUNT`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub pending_requests: i64,
    pub pending_notifications: i64,
}

pub async fn summary(db: &Db, account_id: i64) -> Result<Summary> {
    let (requests, notifications): (i64, i64) = on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT (SELECT COUNT(*) FROM notification_requests r WHERE r.account_id = $1 \
               AND ", request_shows!(), "), \
             (SELECT COUNT(*) FROM notifications f WHERE f.account_id = $1 AND f.filtered \
               AND EXISTS (SELECT 1 FROM notification_requests r WHERE r.account_id = $1 \
                 AND r.from_account_id = f.from_account_id AND ", request_shows!(), "))"
        ))
        .bind(account_id)
        .fetch_one(pool)
        .await?
    });
    Ok(Summary {
        pending_requests: requests.min(MAX_MEANINGFUL_COUNT),
        pending_notifications: notifications.min(MAX_MEANINGFUL_COUNT),
    })
}

/// The sender of `account_id`'s request `id`, whether it shows or not.
async fn sender(tx: &mut Tx, account_id: i64, id: i64) -> Result<Option<i64>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT from_account_id FROM notification_requests WHERE account_id = $1 AND id = $2",
        )
        .bind(account_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

async fn remove(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM notification_requests WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Accept `account_id`'s request `id`: its notifications become ordinary
/// ones (each its own group), and its sender is never filtered again.
/// False when there is no such request.
pub async fn accept(tx: &mut Tx, account_id: i64, id: i64, now: UnixMillis) -> Result<bool> {
    let Some(from) = sender(tx, account_id, id).await? else {
        return Ok(false);
    };
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO notification_permissions (account_id, from_account_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(account_id)
        .bind(from)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE notifications SET filtered = FALSE \
             WHERE account_id = $1 AND from_account_id = $2 AND filtered",
        )
        .bind(account_id)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    });
    remove(tx, id).await?;
    Ok(true)
}

/// Dismiss `account_id`'s request `id` with its filtered notifications;
/// the sender's next filtered one opens a new request. False when there
/// is no such request.
pub async fn dismiss(tx: &mut Tx, account_id: i64, id: i64) -> Result<bool> {
    let Some(from) = sender(tx, account_id, id).await? else {
        return Ok(false);
    };
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 \
             AND filtered",
        )
        .bind(account_id)
        .bind(from)
        .execute(&mut *conn)
        .await?;
    });
    remove(tx, id).await?;
    Ok(true)
}
