//! Timelines: pages of statuses, newest first, by keyset over status ids.
//!
//! Every query here either reads an index range that matches its order
//! (`home_feed`'s primary key, `statuses_account`, `statuses_public*`,
//! `status_tags_tag`) or filters such a range; none uses `OFFSET`. Statuses
//! a viewer may not read never come out (see `visible_to!`).

use perch_core::id::Id;

use crate::page::Page;

/// Unless the flag bound at `$p` is set, any status; otherwise only those
/// with attachments.
macro_rules! with_media {
    ($p:literal) => {
        concat!(
            "(",
            $p,
            " = FALSE OR EXISTS (SELECT 1 FROM media_attachments ma \
             WHERE ma.status_id = s.id))"
        )
    };
}
use crate::statuses::StatusRow;
use crate::{Db, Result};

/// `account_id`'s home feed, without the statuses of the members of its
/// exclusive lists. Feeds keep their newest entries only (see
/// `retention::home_feeds`): a page that runs past the oldest kept entry
/// is completed from the statuses of the account and of those it follows,
/// so paging further back still finds older statuses, in order.
pub async fn home(db: &Db, account_id: i64, page: &Page) -> Result<Vec<StatusRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    let mut rows: Vec<StatusRow> = on_db!(db, pool => {
        if page.ascending() {
            sqlx::query_as(concat!(
                "SELECT ", status_columns!(), " FROM home_feed h JOIN statuses s ON s.id = h.status_id \
                 WHERE h.account_id = $1 AND h.status_id > $2 AND h.status_id < $3 \
                 AND ", not_kept_from!("$1"), " AND ", not_in_exclusive_list!("$1"), " ORDER BY h.status_id ASC LIMIT $4"
            ))
            .bind(account_id).bind(lower).bind(upper).bind(page.limit)
            .fetch_all(pool).await?
        } else {
            sqlx::query_as(concat!(
                "SELECT ", status_columns!(), " FROM home_feed h JOIN statuses s ON s.id = h.status_id \
                 WHERE h.account_id = $1 AND h.status_id > $2 AND h.status_id < $3 \
                 AND ", not_kept_from!("$1"), " AND ", not_in_exclusive_list!("$1"), " ORDER BY h.status_id DESC LIMIT $4"
            ))
            .bind(account_id).bind(lower).bind(upper).bind(page.limit)
            .fetch_all(pool).await?
        }
    });
    let missing = page.limit - rows.len() as i64;
    if !page.ascending() && missing > 0 {
        // Every kept entry in the range was returned: what is older than
        // the last of them comes from the statuses themselves.
        let below = rows.last().map_or(upper, |r| r.id);
        rows.extend(older_than_feed(db, account_id, lower, below, missing).await?);
    }
    Ok(page.finish(rows))
}

/// The shortest and longest window [`older_than_feed`] scans in id order.
const MIN_WINDOW_MILLIS: i64 = 60_000;
const MAX_WINDOW_MILLIS: i64 = 24 * 3600 * 1000;

/// Statuses of `account_id` and of those it follows, newer than `lower`
/// and older than `below`, that it may read, newest first, at most
/// `limit`: the home timeline past what its feed keeps.
///
/// Two steps, because the cheap plan depends on how much of everything
/// posted comes from the followed. First the statuses just below `below`
/// are read in id order over a window (of time, at most a day) expected to
/// hold four times `limit` of the followed statuses at the rate the kept
/// feed shows; that read stops at `limit`, so it costs about `limit`
/// divided by the followed share, whatever the size of the table. Only
/// when the window holds fewer does the rest come from each followed
/// account's own statuses (`statuses_account`), which is the cheaper plan
/// when the followed rarely post. (Given the second query alone, SQLite
/// reads and sorts every status of every followed account older than the
/// page: hundreds of milliseconds at a million statuses.) The unary `+`
/// keeps the first query off `statuses_account`.
async fn older_than_feed(
    db: &Db,
    account_id: i64,
    lower: i64,
    below: i64,
    limit: i64,
) -> Result<Vec<StatusRow>> {
    let (kept, oldest, newest): (i64, Option<i64>, Option<i64>) = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT COUNT(*), MIN(status_id), MAX(status_id) FROM home_feed WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_one(pool)
        .await?
    });
    let mut rows = Vec::new();
    let mut below = below;
    if let (Some(oldest), Some(newest), true) = (oldest, newest, kept >= 2) {
        let millis = |id: i64| Id::from_i64(id).timestamp_millis();
        let span = millis(newest) - millis(oldest);
        let window =
            (span.saturating_mul(4 * limit) / kept).clamp(MIN_WINDOW_MILLIS, MAX_WINDOW_MILLIS);
        let top = millis(below).min(perch_core::time::now_millis());
        // `lower` is exclusive, the floor inclusive.
        let lowest = lower.saturating_add(1);
        let floor = Id::lower_bound_at(top - window).as_i64().max(lowest);
        rows = on_db!(db, pool => {
            sqlx::query_as(concat!(
                "SELECT ", status_columns!(), " FROM statuses s \
                 WHERE s.id >= $2 AND s.id < $3 \
                   AND (+s.account_id = $1 OR +s.account_id IN \
                        (SELECT target_account_id FROM follows WHERE account_id = $1)) \
                   AND ", visible_to!("$1"), " AND ", not_kept_from!("$1"),
                " AND ", not_in_exclusive_list!("$1"), " ORDER BY s.id DESC LIMIT $4"
            ))
            .bind(account_id).bind(floor).bind(below).bind(limit)
            .fetch_all(pool).await?
        });
        if rows.len() as i64 >= limit || floor <= lowest {
            return Ok(rows);
        }
        below = floor;
    }
    let missing = limit - rows.len() as i64;
    let older: Vec<StatusRow> = on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", status_columns!(), " FROM statuses s \
             WHERE s.id > $2 AND s.id < $3 \
               AND (s.account_id = $1 OR s.account_id IN \
                    (SELECT target_account_id FROM follows WHERE account_id = $1)) \
               AND ", visible_to!("$1"), " AND ", not_kept_from!("$1"),
            " AND ", not_in_exclusive_list!("$1"), " ORDER BY s.id DESC LIMIT $4"
        ))
        .bind(account_id).bind(lower).bind(below).bind(missing)
        .fetch_all(pool).await?
    });
    rows.extend(older);
    Ok(rows)
}

/// Which public statuses.
#[derive(Clone, Copy, Debug, Default)]
pub struct PublicFilter {
    /// `Some(true)`: local only; `Some(false)`: remote only.
    pub local: Option<bool>,
    /// Only statuses with attachments.
    pub only_media: bool,
}

/// The public timeline: original public statuses, but none by accounts
/// kept from `viewer` (0: nobody signed in), nor by silenced or suspended
/// ones.
pub async fn public(
    db: &Db,
    viewer: i64,
    filter: PublicFilter,
    page: &Page,
) -> Result<Vec<StatusRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($where:literal, $order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", status_columns!(), " FROM statuses s \
                     WHERE s.visibility = 0 AND s.reblog_of_id IS NULL ", $where,
                    " AND s.id > $1 AND s.id < $2 AND ", with_media!("$4"),
                    " AND ", not_kept_from!("$5"), " AND ", publicly_shown!(),
                    " ORDER BY s.id ", $order, " LIMIT $3"
                ))
                .bind(lower).bind(upper).bind(page.limit).bind(filter.only_media).bind(viewer)
                .fetch_all(pool).await?
            })
        };
    }
    let rows = match (filter.local, page.ascending()) {
        (None, false) => query!("", "DESC"),
        (None, true) => query!("", "ASC"),
        (Some(true), false) => query!("AND s.local = TRUE", "DESC"),
        (Some(true), true) => query!("AND s.local = TRUE", "ASC"),
        (Some(false), false) => query!("AND s.local = FALSE", "DESC"),
        (Some(false), true) => query!("AND s.local = FALSE", "ASC"),
    };
    Ok(page.finish(rows))
}

/// Public statuses tagged `tag` (lower-cased), but none by accounts kept
/// from `viewer` (0: nobody signed in), nor by silenced or suspended ones.
pub async fn tag(
    db: &Db,
    tag: &str,
    viewer: i64,
    filter: PublicFilter,
    page: &Page,
) -> Result<Vec<StatusRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", status_columns!(), " FROM tags t \
                     JOIN status_tags st ON st.tag_id = t.id \
                     JOIN statuses s ON s.id = st.status_id \
                     WHERE t.name = $1 AND s.visibility = 0 AND s.reblog_of_id IS NULL \
                     AND st.status_id > $2 AND st.status_id < $3 \
                     AND ($5 IS NULL OR s.local = $5) AND ", with_media!("$6"),
                    " AND ", not_kept_from!("$7"), " AND ", publicly_shown!(),
                    " ORDER BY st.status_id ", $order, " LIMIT $4"
                ))
                .bind(tag).bind(lower).bind(upper).bind(page.limit)
                .bind(filter.local).bind(filter.only_media).bind(viewer)
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

/// Which of an account's statuses.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccountFilter {
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub only_media: bool,
}

/// `author_id`'s statuses that `viewer` (0: nobody) may read, without its
/// reblogs of accounts kept from `viewer`.
pub async fn account(
    db: &Db,
    author_id: i64,
    viewer: i64,
    filter: AccountFilter,
    page: &Page,
) -> Result<Vec<StatusRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", status_columns!(), " FROM statuses s \
                     WHERE s.account_id = $1 AND s.id > $3 AND s.id < $4 AND ",
                    visible_to!("$2"), " AND ", reblog_not_kept_from!("$2"),
                    " AND ($6 = FALSE OR s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = $1) \
                     AND ($7 = FALSE OR s.reblog_of_id IS NULL) AND ", with_media!("$8"),
                    " ORDER BY s.id ", $order, " LIMIT $5"
                ))
                .bind(author_id).bind(viewer).bind(lower).bind(upper).bind(page.limit)
                .bind(filter.exclude_replies).bind(filter.exclude_reblogs).bind(filter.only_media)
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
