//! Grouped notifications, as Mastodon 4.3 serves them: each notification
//! is stored with its `group_key` ([`key_for`]), so a page of groups is one
//! query over the `(account_id, group_key, id)` index ([`heads`]), and what
//! a page says of each group one more ([`summaries`]).
//!
//! A group's *head* on a page is its newest notification there (its oldest
//! when paging forward with `min_id`): walking the notifications in page
//! order, the first of each group. The page is the first `limit` heads.

use std::collections::HashMap;

use perch_core::notifications::{candidate_keys, group_prefix, ungrouped_id, ungrouped_key};

use crate::notifications::{NewNotification, NotificationRow, TypeFilter};
use crate::page::Page;
use crate::{Db, Result, Tx};

/// Accounts shown for a group, newest first.
pub const SAMPLE_ACCOUNTS: i64 = 8;

/// The key a new notification (not filtered) is stored with: the group of
/// the same kind and status begun within the last twelve hours, or a new
/// group begun this hour; `ungrouped-<id>` for the kinds not grouped.
pub(crate) async fn key_for(tx: &mut Tx, new: &NewNotification<'_>) -> Result<String> {
    let Some(prefix) = group_prefix(new.kind, new.status_id) else {
        return Ok(ungrouped_key(new.id));
    };
    let keys = candidate_keys(&prefix, new.created_at);
    let found: Option<String> = on_tx!(tx, conn => {
        let mut query = sqlx::query_scalar(
            "SELECT group_key FROM notifications WHERE account_id = $1 \
             AND group_key IN ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(new.account_id);
        for key in &keys {
            query = query.bind(key);
        }
        query.fetch_optional(&mut *conn).await?
    });
    Ok(found.unwrap_or_else(|| keys[0].clone()))
}

/// `,a,b,` for a `LIKE` membership test.
fn joined(list: &[String]) -> String {
    format!(",{},", list.join(","))
}

/// The notification columns, qualified with `n`.
macro_rules! row_columns {
    () => {
        "n.id, n.account_id, n.from_account_id, n.kind, n.status_id, n.report_id, \
         n.created_at, n.group_key, n.filtered"
    };
}

/// The heads of one page of `account_id`'s groups, newest first, under
/// `filter`; only the kinds in `grouped` are grouped (the others are heads
/// of their own). A row is a head when no notification of its group lies
/// between it and the page's far bound.
pub async fn heads(
    db: &Db,
    account_id: i64,
    filter: &TypeFilter,
    grouped: &[String],
    page: &Page,
) -> Result<Vec<NotificationRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    let include = filter.include_joined();
    let exclude = filter.exclude_joined();
    let from = filter.from_account_id.unwrap_or(0);
    let grouped = joined(grouped);
    macro_rules! query {
        ($order:literal, $between:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", row_columns!(), " FROM notifications n \
                     WHERE n.account_id = $1 AND n.id > $2 AND n.id < $3 \
                     AND ($5 = '' OR $5 LIKE '%,' || n.kind || ',%') \
                     AND ($6 = '' OR $6 NOT LIKE '%,' || n.kind || ',%') \
                     AND ($7 = 0 OR n.from_account_id = $7) \
                     AND ($8 OR $7 <> 0 OR NOT n.filtered) \
                     AND (n.kind LIKE 'admin.%' OR NOT ", kept_from!("$1",
                        "n.from_account_id", " AND km.hide_notifications"), ") \
                     AND ($9 NOT LIKE '%,' || n.kind || ',%' OR NOT EXISTS ( \
                       SELECT 1 FROM notifications m WHERE m.account_id = $1 \
                       AND m.group_key = n.group_key AND ", $between, " \
                       AND ($7 = 0 OR m.from_account_id = $7) \
                       AND NOT ", kept_from!("$1", "m.from_account_id",
                        " AND km.hide_notifications"), "))",
                    " ORDER BY n.id ", $order, " LIMIT $4"
                ))
                .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                .bind(&include).bind(&exclude).bind(from).bind(filter.include_filtered)
                .bind(&grouped)
                .fetch_all(pool).await?
            })
        };
    }
    let rows = if page.ascending() {
        query!("ASC", "m.id < n.id AND m.id > $2")
    } else {
        query!("DESC", "m.id > n.id AND m.id < $3")
    };
    Ok(page.finish(rows))
}

/// What a page says of one group: its size, its newest notification and
/// accounts (up to the page's newest bound), and its oldest notification
/// on the page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupSummary {
    pub count: i64,
    pub most_recent_id: i64,
    pub latest_at: i64,
    /// From the newest notification down, at most [`SAMPLE_ACCOUNTS`].
    pub sample_account_ids: Vec<i64>,
    /// The oldest notification of the group at or above the page's lower
    /// bound.
    pub page_min_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Sample {
    group_key: String,
    id: i64,
    from_account_id: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct Count {
    group_key: String,
    count: i64,
    page_min_id: Option<i64>,
}

/// A query over a list of group keys bound at `$1` (SQLite reads a JSON
/// array, PostgreSQL an array), `$2` being the account; `$head` ends just
/// before the membership test of `n.group_key`.
macro_rules! over_keys {
    ($db:expr, $keys:expr, $head:expr, $tail:expr $(, $bind:expr)*) => {
        match $db {
            $crate::pool::Db::Sqlite(pool) => {
                sqlx::query_as(concat!($head, " IN (SELECT value FROM json_each($1))", $tail))
                    .bind(serde_json::to_string($keys).unwrap_or_else(|_| "[]".to_owned()))
                    $(.bind($bind))*
                    .fetch_all(pool)
                    .await?
            }
            $crate::pool::Db::Postgres(pool) => {
                sqlx::query_as(concat!($head, " = ANY($1)", $tail))
                    .bind($keys)
                    $(.bind($bind))*
                    .fetch_all(pool)
                    .await?
            }
        }
    };
}

/// The summaries of `keys` (stored group keys) of `account_id`, over the
/// notifications with ids in `lowest..=highest`: the count, newest and
/// samples reach down past `lowest`, as in Mastodon, which counts a whole
/// group however much of it a page shows.
pub async fn summaries(
    db: &Db,
    account_id: i64,
    keys: &[String],
    lowest: i64,
    highest: i64,
) -> Result<HashMap<String, GroupSummary>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let keys = keys.to_vec();
    let samples: Vec<Sample> = over_keys!(
        db,
        &keys,
        concat!(
            "SELECT group_key, id, from_account_id, created_at FROM ( \
             SELECT n.group_key, n.id, n.from_account_id, n.created_at, \
             ROW_NUMBER() OVER (PARTITION BY n.group_key ORDER BY n.id DESC) AS position \
             FROM notifications n WHERE n.account_id = $2 AND n.id <= $3 \
             AND NOT ",
            kept_from!("$2", "n.from_account_id", " AND km.hide_notifications"),
            " AND n.group_key"
        ),
        ") ranked WHERE position <= $4 ORDER BY group_key, id DESC",
        account_id,
        highest,
        SAMPLE_ACCOUNTS
    );
    let counts: Vec<Count> = over_keys!(
        db,
        &keys,
        concat!(
            "SELECT n.group_key, COUNT(*) AS count, \
             MIN(CASE WHEN n.id >= $4 THEN n.id END) AS page_min_id \
             FROM notifications n WHERE n.account_id = $2 AND n.id <= $3 \
             AND NOT ",
            kept_from!("$2", "n.from_account_id", " AND km.hide_notifications"),
            " AND n.group_key"
        ),
        " GROUP BY n.group_key",
        account_id,
        highest,
        lowest
    );
    let mut out: HashMap<String, GroupSummary> = HashMap::new();
    for sample in samples {
        let summary = out.entry(sample.group_key).or_default();
        if summary.sample_account_ids.is_empty() {
            summary.most_recent_id = sample.id;
            summary.latest_at = sample.created_at;
        }
        summary.sample_account_ids.push(sample.from_account_id);
    }
    for count in counts {
        if let Some(summary) = out.get_mut(&count.group_key) {
            summary.count = count.count;
            summary.page_min_id = count.page_min_id;
        }
    }
    Ok(out)
}

/// How a client names a group: by its stored key, or `ungrouped-<id>`
/// for one notification (whatever its stored key, since a client that
/// does not group a kind sees its notifications so).
fn selector(key: &str) -> (&str, i64) {
    match ungrouped_id(key) {
        Some(id) => ("", id),
        None => (key, 0),
    }
}

/// The newest notification of `account_id`'s group `key`.
pub async fn newest(db: &Db, account_id: i64, key: &str) -> Result<Option<NotificationRow>> {
    let (key, id) = selector(key);
    if id != 0 {
        return crate::notifications::find(db, account_id, id).await;
    }
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", row_columns!(), " FROM notifications n \
             WHERE n.account_id = $1 AND n.group_key = $2 ORDER BY n.id DESC LIMIT 1"
        ))
        .bind(account_id)
        .bind(key)
        .fetch_optional(pool)
        .await?
    }))
}

/// A page of the notifications of `account_id`'s group `key`, newest
/// first (the accounts behind a group).
pub async fn members(
    db: &Db,
    account_id: i64,
    key: &str,
    page: &Page,
) -> Result<Vec<NotificationRow>> {
    let (key, id) = selector(key);
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", row_columns!(), " FROM notifications n \
                     WHERE n.account_id = $1 AND (n.group_key = $2 OR n.id = $3) \
                     AND n.id > $4 AND n.id < $5 \
                     AND (n.kind LIKE 'admin.%' OR NOT ", kept_from!("$1",
                        "n.from_account_id", " AND km.hide_notifications"), ")",
                    " ORDER BY n.id ", $order, " LIMIT $6"
                ))
                .bind(account_id).bind(key).bind(id).bind(lower).bind(upper)
                .bind(page.limit)
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

/// Dismiss `account_id`'s group `key`; false when it had none.
pub async fn dismiss(db: &Db, account_id: i64, key: &str) -> Result<bool> {
    let (key, id) = selector(key);
    let deleted = on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM notifications WHERE account_id = $1 AND (group_key = $2 OR id = $3)",
        )
        .bind(account_id)
        .bind(key)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(deleted > 0)
}
