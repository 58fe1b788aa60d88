//! Notifications (follow, follow_request, mention, favourite, reblog,
//! update, poll, and the staff's admin.report and admin.sign_up) and read markers.
//!
//! One event notifies once: a repeated like or follow finds the unique index
//! `notifications_once` and changes nothing. Each is stored with its group
//! key (see [`crate::notification_groups`]) and, when the recipient's
//! policy holds it back, as filtered (see [`crate::notification_policies`]
//! and [`crate::notification_requests`]).

use perch_core::notifications::{Verdict, ungrouped_key};
use perch_core::time::UnixMillis;

use crate::live::LiveEvent;
use crate::page::Page;
use crate::{Db, Result, Tx};

/// A notification to store.
#[derive(Clone, Debug)]
pub struct NewNotification<'a> {
    pub id: i64,
    /// Who is notified (a local account).
    pub account_id: i64,
    /// Who caused it.
    pub from_account_id: i64,
    /// Mastodon's type: `follow`, `favourite`, `mention`…
    pub kind: &'a str,
    pub status_id: Option<i64>,
    pub created_at: UnixMillis,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub account_id: i64,
    pub from_account_id: i64,
    pub kind: String,
    pub status_id: Option<i64>,
    /// The report of an `admin.report` notification.
    pub report_id: Option<i64>,
    pub created_at: i64,
    /// The group it was stored in (`ungrouped-<id>` when none).
    pub group_key: String,
    /// Held back by the recipient's notification policy.
    pub filtered: bool,
}

/// Store a notification unless it exists, or it would notify an account of
/// its own action (the end of one's own poll is the exception: its author
/// hears of it, as in Mastodon), or the notified account is not local, or the one who
/// caused it is kept from it (a block either way, a mute that hides
/// notifications, a block of its server: `kept_from!`), or it is
/// suspended, or it is about a status in a conversation the notified
/// account muted, or the notified account's policy drops it. A notification
/// the policy filters is stored apart, counted in its sender's notification
/// request, and neither streamed nor pushed. When stored and not filtered,
/// the live event to publish once the transaction commits.
pub async fn insert(tx: &mut Tx, new: &NewNotification<'_>) -> Result<Option<LiveEvent>> {
    if new.account_id == new.from_account_id && new.kind != "poll" {
        return Ok(None);
    }
    let filtered = match crate::notification_policies::verdict(tx, new).await? {
        None | Some(Verdict::Drop) => return Ok(None),
        Some(Verdict::Filter) => true,
        Some(Verdict::Notify) => false,
    };
    // Filtered notifications stay out of groups, as in Mastodon: once
    // accepted they show one by one.
    let group_key = if filtered {
        ungrouped_key(new.id)
    } else {
        crate::notification_groups::key_for(tx, new).await?
    };
    let inserted = on_tx!(tx, conn => {
        sqlx::query(concat!(
            "INSERT INTO notifications (id, account_id, from_account_id, kind, status_id, \
             created_at, group_key, filtered) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM accounts WHERE id = $2 AND domain IS NULL \
             AND NOT ", kept_from!("$2", "$3", " AND km.hide_notifications"), " \
             AND NOT EXISTS (SELECT 1 FROM accounts sa WHERE sa.id = $3 \
               AND sa.suspended_at IS NOT NULL) \
             AND ($5 IS NULL OR NOT EXISTS ( \
               WITH RECURSIVE up (id, parent, depth) AS ( \
                 SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = $5 \
                   AND EXISTS (SELECT 1 FROM conversation_mutes WHERE account_id = $2) \
                 UNION ALL \
                 SELECT p.id, p.in_reply_to_id, up.depth + 1 FROM statuses p \
                   JOIN up ON p.id = up.parent WHERE up.depth < 256) \
               SELECT 1 FROM up JOIN conversation_mutes c \
                 ON c.root_status_id = up.id AND c.account_id = $2)) \
             ON CONFLICT DO NOTHING",
        ))
        .bind(new.id)
        .bind(new.account_id)
        .bind(new.from_account_id)
        .bind(new.kind)
        .bind(new.status_id)
        .bind(new.created_at)
        .bind(&group_key)
        .bind(filtered)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if inserted != 1 {
        return Ok(None);
    }
    if filtered {
        crate::notification_requests::record(tx, new).await?;
        return Ok(None);
    }
    crate::push::enqueue_for(
        tx,
        new.id,
        new.account_id,
        new.from_account_id,
        new.kind,
        new.created_at,
    )
    .await?;
    Ok(Some(LiveEvent::Notification {
        account_id: new.account_id,
        id: new.id,
    }))
}

/// [`insert`] with the fields in order: a new notification `id` for
/// `account_id`, caused by `from`, of `kind`, about `status_id`.
pub async fn notify(
    tx: &mut Tx,
    id: i64,
    account_id: i64,
    from: i64,
    kind: &str,
    status_id: Option<i64>,
    now: UnixMillis,
) -> Result<Option<LiveEvent>> {
    let new = NewNotification {
        id,
        account_id,
        from_account_id: from,
        kind,
        status_id,
        created_at: now,
    };
    insert(tx, &new).await
}

/// Notify the staff of a moderation event (`admin.report`, `admin.sign_up`)
/// caused by `from`: every local user whose role is among `roles`, whose
/// account is neither disabled nor suspended, other than `from` and
/// `except` (a moderator is not told of a report about themselves). The
/// staff's own blocks and mutes do not hold these back: handling them is
/// the role's duty, and no notification policy holds them back either.
/// `next_id` gives each notification its id; the live events to publish
/// once the transaction commits.
#[allow(clippy::too_many_arguments)]
pub async fn notify_staff(
    tx: &mut Tx,
    next_id: &mut (dyn FnMut() -> i64 + Send),
    roles: &[&str],
    from: i64,
    except: Option<i64>,
    kind: &str,
    report_id: Option<i64>,
    now: UnixMillis,
) -> Result<Vec<LiveEvent>> {
    let roles = format!(",{},", roles.join(","));
    let staff: Vec<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT u.account_id FROM users u JOIN accounts a ON a.id = u.account_id \
             WHERE $1 LIKE '%,' || u.role || ',%' AND u.disabled_at IS NULL \
             AND a.suspended_at IS NULL AND u.account_id <> $2 \
             AND u.account_id <> COALESCE($3, 0) ORDER BY u.account_id",
        )
        .bind(&roles)
        .bind(from)
        .bind(except)
        .fetch_all(&mut *conn)
        .await?
    });
    let mut events = Vec::with_capacity(staff.len());
    for account_id in staff {
        let id = next_id();
        let inserted = on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO notifications (id, account_id, from_account_id, kind, report_id, \
                 created_at, group_key) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(account_id)
            .bind(from)
            .bind(kind)
            .bind(report_id)
            .bind(now)
            .bind(ungrouped_key(id))
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if inserted == 1 {
            crate::push::enqueue_for(tx, id, account_id, from, kind, now).await?;
            events.push(LiveEvent::Notification { account_id, id });
        }
    }
    Ok(events)
}

/// Remove the notification of an event taken back (an unfollow, an unlike).
pub async fn retract(
    tx: &mut Tx,
    account_id: i64,
    from_account_id: i64,
    kind: &str,
    status_id: Option<i64>,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 \
             AND kind = $3 AND COALESCE(status_id, 0) = COALESCE($4, 0)",
        )
        .bind(account_id)
        .bind(from_account_id)
        .bind(kind)
        .bind(status_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Which notifications to list: `include` empty means all types; both
/// hold type names. Filtered notifications are left out unless
/// `include_filtered`, or unless `from_account_id` names their sender (as
/// in Mastodon, where a notification request's notifications are read so).
#[derive(Clone, Debug, Default)]
pub struct TypeFilter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub from_account_id: Option<i64>,
    pub include_filtered: bool,
}

impl TypeFilter {
    /// `,a,b,` for a `LIKE` membership test; empty when the list is.
    fn joined(list: &[String]) -> String {
        if list.is_empty() {
            String::new()
        } else {
            format!(",{},", list.join(","))
        }
    }

    pub(crate) fn include_joined(&self) -> String {
        Self::joined(&self.include)
    }

    pub(crate) fn exclude_joined(&self) -> String {
        Self::joined(&self.exclude)
    }
}

/// A page of `account_id`'s notifications under `filter`, newest first,
/// without those caused by accounts kept from it since.
pub async fn page(
    db: &Db,
    account_id: i64,
    filter: &TypeFilter,
    page: &Page,
) -> Result<Vec<NotificationRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    let include = filter.include_joined();
    let exclude = filter.exclude_joined();
    let from = filter.from_account_id.unwrap_or(0);
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT id, account_id, from_account_id, kind, status_id, report_id, created_at, \
                     group_key, filtered FROM notifications \
                     WHERE account_id = $1 AND id > $2 AND id < $3 \
                     AND ($5 = '' OR $5 LIKE '%,' || kind || ',%') \
                     AND ($6 = '' OR $6 NOT LIKE '%,' || kind || ',%') \
                     AND ($7 = 0 OR from_account_id = $7) \
                     AND ($8 OR $7 <> 0 OR NOT filtered) \
                     AND (kind LIKE 'admin.%' OR NOT ", kept_from!("$1",
                        "notifications.from_account_id", " AND km.hide_notifications"), ")",
                    " ORDER BY id ", $order, " LIMIT $4"
                ))
                .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                .bind(&include).bind(&exclude).bind(from).bind(filter.include_filtered)
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

pub async fn find(db: &Db, account_id: i64, id: i64) -> Result<Option<NotificationRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_id, from_account_id, kind, status_id, report_id, created_at, \
             group_key, filtered FROM notifications WHERE account_id = $1 AND id = $2",
        )
        .bind(account_id)
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Dismiss one notification; false when there was none.
pub async fn dismiss(db: &Db, account_id: i64, id: i64) -> Result<bool> {
    let deleted = on_db!(db, pool => {
        sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(deleted == 1)
}

/// Dismiss them all.
pub async fn clear(db: &Db, account_id: i64) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM notifications WHERE account_id = $1")
            .bind(account_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// A read position.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MarkerRow {
    pub timeline: String,
    pub last_read_id: i64,
    pub version: i64,
    pub updated_at: i64,
}

/// `account_id`'s markers.
pub async fn markers(db: &Db, account_id: i64) -> Result<Vec<MarkerRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT timeline, last_read_id, version, updated_at FROM markers \
             WHERE account_id = $1 ORDER BY timeline",
        )
        .bind(account_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Move a read position (`home` or `notifications`); each move bumps its
/// version, which clients use to detect concurrent updates.
pub async fn set_marker(
    db: &Db,
    account_id: i64,
    timeline: &str,
    last_read_id: i64,
    now: UnixMillis,
) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) \
             VALUES ($1, $2, $3, 0, $4) \
             ON CONFLICT (account_id, timeline) DO UPDATE \
             SET last_read_id = excluded.last_read_id, version = markers.version + 1, \
                 updated_at = excluded.updated_at",
        )
        .bind(account_id)
        .bind(timeline)
        .bind(last_read_id)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}
