//! What an account keeps away from itself: blocks, mutes, its blocks of
//! whole servers and its muted conversations.
//!
//! The rows are written here; who they keep from whom is one SQL predicate
//! (`kept_from!` and `not_kept_from!` in this crate's macros), which the
//! timelines, notifications, threads and the streaming hub all use.

use std::collections::HashSet;

use perch_core::time::UnixMillis;

use crate::accounts::AccountRow;
use crate::page::Page;
use crate::{Db, Result, Tx};

/// A block: `account_id` blocks `target_account_id`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BlockRow {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    /// The Block activity's id.
    pub uri: Option<String>,
    pub created_at: i64,
}

/// Store a block; false when it existed.
pub async fn insert_block(
    tx: &mut Tx,
    id: i64,
    account_id: i64,
    target_id: i64,
    uri: Option<&str>,
    now: UnixMillis,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO blocks (id, account_id, target_account_id, uri, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(account_id)
        .bind(target_id)
        .bind(uri)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(inserted == 1)
}

/// Remove a block; the removed row.
pub async fn delete_block(
    tx: &mut Tx,
    account_id: i64,
    target_id: i64,
) -> Result<Option<BlockRow>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(
            "DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2 \
             RETURNING id, account_id, target_account_id, uri, created_at",
        )
        .bind(account_id)
        .bind(target_id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// A block by its Block activity's id.
pub async fn find_block_by_uri(db: &Db, uri: &str) -> Result<Option<BlockRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_id, target_account_id, uri, created_at FROM blocks WHERE uri = $1",
        )
        .bind(uri)
        .fetch_optional(pool)
        .await?
    }))
}

/// Whether either account blocks the other.
pub async fn blocked_either_way(db: &Db, a: i64, b: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $1 AND target_account_id = $2) \
             OR (account_id = $2 AND target_account_id = $1))",
        )
        .bind(a)
        .bind(b)
        .fetch_one(pool)
        .await?
    }))
}

/// Whether `from` is kept from `to` (a block either way, a mute by `to`, a
/// block of `from`'s server by `to`): nothing `from` does reaches `to`.
pub async fn kept_from(db: &Db, to: i64, from: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(concat!("SELECT ", kept_from!("$1", "$2", "")))
            .bind(to)
            .bind(from)
            .fetch_one(pool)
            .await?
    }))
}

/// A mute to store (or to change, when the account is muted already).
#[derive(Clone, Debug)]
pub struct NewMute {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    pub hide_notifications: bool,
    pub expires_at: Option<UnixMillis>,
    pub created_at: UnixMillis,
}

/// Mute, or change an existing mute's settings; true when the mute is new.
pub async fn upsert_mute(tx: &mut Tx, mute: &NewMute) -> Result<bool> {
    let existed: bool = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM mutes WHERE account_id = $1 AND target_account_id = $2)",
        )
        .bind(mute.account_id)
        .bind(mute.target_account_id)
        .fetch_one(&mut *conn)
        .await?
    });
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO mutes (id, account_id, target_account_id, hide_notifications, \
             expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account_id, target_account_id) DO UPDATE \
             SET hide_notifications = excluded.hide_notifications, \
                 expires_at = excluded.expires_at",
        )
        .bind(mute.id)
        .bind(mute.account_id)
        .bind(mute.target_account_id)
        .bind(mute.hide_notifications)
        .bind(mute.expires_at)
        .bind(mute.created_at)
        .execute(&mut *conn)
        .await?;
    });
    Ok(!existed)
}

/// Unmute; false when there was no mute.
pub async fn delete_mute(tx: &mut Tx, account_id: i64, target_id: i64) -> Result<bool> {
    let deleted = on_tx!(tx, conn => {
        sqlx::query("DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2")
            .bind(account_id)
            .bind(target_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    Ok(deleted == 1)
}

/// End the mutes whose time is up; how many ended.
pub async fn purge_expired_mutes(db: &Db, now: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM mutes WHERE expires_at IS NOT NULL AND expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

/// The mutes of `account_id` among `targets`: (target, its mute's expiry).
pub async fn mute_expiries(
    db: &Db,
    account_id: i64,
    targets: &[i64],
) -> Result<Vec<(i64, Option<i64>)>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        targets,
        query_as,
        "SELECT target_account_id, expires_at FROM mutes WHERE target_account_id",
        " AND account_id = $2",
        account_id
    ))
}

/// Which list of kept-away accounts to page through.
#[derive(Clone, Copy, Debug)]
pub enum List {
    Blocked,
    Muted,
}

/// `(row id, account)` pairs of `account_id`'s blocks or mutes, newest
/// first (oldest first when paging forward with `min_id`, then reversed).
pub async fn page(
    db: &Db,
    list: List,
    account_id: i64,
    page: &Page,
) -> Result<Vec<(i64, AccountRow)>> {
    let (lower, upper, ascending) = (page.lower(), page.upper(), page.ascending());
    macro_rules! relation_page {
        ($table:literal) => {
            on_db!(db, pool => {
                let rows: Vec<KeptAccount> = if ascending {
                    sqlx::query_as(concat!(
                        "SELECT r.id AS relation_id, ", prefixed_account_columns!(),
                        " FROM ", $table, " r JOIN accounts a ON a.id = r.target_account_id \
                          WHERE r.account_id = $1 AND r.id > $2 AND r.id < $3 \
                          ORDER BY r.id ASC LIMIT $4"
                    ))
                    .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                    .fetch_all(pool).await?
                } else {
                    sqlx::query_as(concat!(
                        "SELECT r.id AS relation_id, ", prefixed_account_columns!(),
                        " FROM ", $table, " r JOIN accounts a ON a.id = r.target_account_id \
                          WHERE r.account_id = $1 AND r.id > $2 AND r.id < $3 \
                          ORDER BY r.id DESC LIMIT $4"
                    ))
                    .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                    .fetch_all(pool).await?
                };
                rows
            })
        };
    }
    let rows = match list {
        List::Blocked => relation_page!("blocks"),
        List::Muted => relation_page!("mutes"),
    };
    Ok(page
        .finish(rows)
        .into_iter()
        .map(|r| (r.relation_id, r.account))
        .collect())
}

#[derive(sqlx::FromRow)]
struct KeptAccount {
    relation_id: i64,
    #[sqlx(flatten)]
    account: AccountRow,
}

/// Block a server for `account_id`; false when it was blocked.
pub async fn insert_domain_block(
    tx: &mut Tx,
    id: i64,
    account_id: i64,
    domain: &str,
    now: UnixMillis,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO account_domain_blocks (id, account_id, domain, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(account_id)
        .bind(domain)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(inserted == 1)
}

/// Unblock a server; false when it was not blocked.
pub async fn delete_domain_block(db: &Db, account_id: i64, domain: &str) -> Result<bool> {
    let deleted = on_db!(db, pool => {
        sqlx::query("DELETE FROM account_domain_blocks WHERE account_id = $1 AND domain = $2")
            .bind(account_id)
            .bind(domain)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(deleted == 1)
}

/// Whether `account_id` blocks the server `domain`.
pub async fn domain_blocked_by(db: &Db, account_id: i64, domain: &str) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM account_domain_blocks \
             WHERE account_id = $1 AND domain = $2)",
        )
        .bind(account_id)
        .bind(domain)
        .fetch_one(pool)
        .await?
    }))
}

/// `(row id, domain)` pairs of `account_id`'s blocked servers, newest first.
pub async fn domain_block_page(
    db: &Db,
    account_id: i64,
    page: &Page,
) -> Result<Vec<(i64, String)>> {
    let (lower, upper) = (page.lower(), page.upper());
    let rows = on_db!(db, pool => {
        if page.ascending() {
            sqlx::query_as(
                "SELECT id, domain FROM account_domain_blocks \
                 WHERE account_id = $1 AND id > $2 AND id < $3 ORDER BY id ASC LIMIT $4",
            )
            .bind(account_id).bind(lower).bind(upper).bind(page.limit)
            .fetch_all(pool).await?
        } else {
            sqlx::query_as(
                "SELECT id, domain FROM account_domain_blocks \
                 WHERE account_id = $1 AND id > $2 AND id < $3 ORDER BY id DESC LIMIT $4",
            )
            .bind(account_id).bind(lower).bind(upper).bind(page.limit)
            .fetch_all(pool).await?
        }
    });
    Ok(page.finish(rows))
}

/// The remote accounts of `domain` that follow `account_id`, or that it
/// follows or asked to follow: the relations a block of the server ends.
pub async fn relations_with_domain(
    db: &Db,
    account_id: i64,
    domain: &str,
) -> Result<Vec<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", prefixed_account_columns!(), " FROM accounts a WHERE a.domain = $2 AND ( \
               EXISTS (SELECT 1 FROM follows f WHERE f.account_id = a.id AND f.target_account_id = $1) \
               OR EXISTS (SELECT 1 FROM follows f WHERE f.account_id = $1 AND f.target_account_id = a.id) \
               OR EXISTS (SELECT 1 FROM follow_requests r WHERE r.account_id = a.id AND r.target_account_id = $1) \
               OR EXISTS (SELECT 1 FROM follow_requests r WHERE r.account_id = $1 AND r.target_account_id = a.id)) \
             ORDER BY a.id"
        ))
        .bind(account_id)
        .bind(domain)
        .fetch_all(pool)
        .await?
    }))
}

/// Take out of `account_id`'s home feed every status by `author_id`, and
/// every reblog of one, whatever its visibility: what a block or a mute
/// leaves behind.
pub async fn clear_author_from_home(tx: &mut Tx, account_id: i64, author_id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM home_feed WHERE account_id = $1 AND status_id IN ( \
               SELECT s.id FROM statuses s WHERE s.account_id = $2 \
               UNION SELECT s.id FROM statuses s JOIN statuses r ON r.id = s.reblog_of_id \
                 WHERE r.account_id = $2)",
        )
        .bind(account_id)
        .bind(author_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Take out of `account_id`'s home feed every status from `domain`'s
/// accounts, and every reblog of one.
pub async fn clear_domain_from_home(tx: &mut Tx, account_id: i64, domain: &str) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM home_feed WHERE account_id = $1 AND status_id IN ( \
               SELECT h.status_id FROM home_feed h JOIN statuses s ON s.id = h.status_id \
               LEFT JOIN statuses r ON r.id = s.reblog_of_id \
               JOIN accounts a ON a.id = s.account_id OR a.id = r.account_id \
               WHERE h.account_id = $1 AND a.domain = $2)",
        )
        .bind(account_id)
        .bind(domain)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Remove the notifications `from` caused `account_id` (a block ends them).
pub async fn clear_notifications_from(tx: &mut Tx, account_id: i64, from: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2")
            .bind(account_id)
            .bind(from)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// The first known status of `status_id`'s thread (itself when it replies
/// to nothing known), climbing at most 256 replies.
pub async fn thread_root(db: &Db, status_id: i64) -> Result<i64> {
    let root: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar(
            "WITH RECURSIVE up (id, parent, depth) AS ( \
               SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = $1 \
               UNION ALL \
               SELECT p.id, p.in_reply_to_id, up.depth + 1 FROM statuses p JOIN up ON p.id = up.parent \
               WHERE up.depth < 256) \
             SELECT id FROM up ORDER BY depth DESC LIMIT 1",
        )
        .bind(status_id)
        .fetch_optional(pool)
        .await?
    });
    Ok(root.unwrap_or(status_id))
}

/// Mute the thread whose root is `root_status_id` for `account_id`.
pub async fn mute_conversation(
    db: &Db,
    account_id: i64,
    root_status_id: i64,
    now: UnixMillis,
) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO conversation_mutes (account_id, root_status_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(account_id)
        .bind(root_status_id)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

pub async fn unmute_conversation(db: &Db, account_id: i64, root_status_id: i64) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM conversation_mutes WHERE account_id = $1 AND root_status_id = $2")
            .bind(account_id)
            .bind(root_status_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Whether `account_id` muted the thread of `status_id`.
pub async fn conversation_muted(db: &Db, account_id: i64, status_id: i64) -> Result<bool> {
    Ok(!in_muted_conversations(db, account_id, &[status_id])
        .await?
        .is_empty())
}

/// Which of `status_ids` belong to threads `account_id` muted (for the
/// `muted` field of statuses, and to keep their notifications back): one
/// query climbing every thread at once.
pub async fn in_muted_conversations(
    db: &Db,
    account_id: i64,
    status_ids: &[i64],
) -> Result<HashSet<i64>> {
    if status_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<i64> = fetch_by_ids!(
        db,
        status_ids,
        query_scalar,
        "WITH RECURSIVE up (start, id, parent, depth) AS ( \
           SELECT id, id, in_reply_to_id, 0 FROM statuses \
           WHERE EXISTS (SELECT 1 FROM conversation_mutes WHERE account_id = $2) AND id",
        " UNION ALL \
           SELECT up.start, p.id, p.in_reply_to_id, up.depth + 1 FROM statuses p \
           JOIN up ON p.id = up.parent WHERE up.depth < 256) \
         SELECT DISTINCT up.start FROM up JOIN conversation_mutes c \
           ON c.root_status_id = up.id AND c.account_id = $2",
        account_id
    );
    Ok(rows.into_iter().collect())
}

/// Every account that `author_id` (and, for a reblog,
/// `reblogged_author_id`) is kept from, by the same rule as `kept_from!`
/// read the other way round: the accounts whose streams must not carry the
/// status. Read from the relations of the two authors, so its cost does not
/// depend on how many connections listen.
pub async fn kept_from_authors(
    db: &Db,
    author_id: i64,
    reblogged_author_id: Option<i64>,
) -> Result<HashSet<i64>> {
    let second = reblogged_author_id.unwrap_or(author_id);
    let rows: Vec<i64> = on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT account_id FROM blocks WHERE target_account_id IN ($1, $2) \
             UNION SELECT target_account_id FROM blocks WHERE account_id IN ($1, $2) \
             UNION SELECT account_id FROM mutes WHERE target_account_id IN ($1, $2) \
             UNION SELECT d.account_id FROM account_domain_blocks d \
               JOIN accounts a ON a.domain = d.domain WHERE a.id IN ($1, $2)",
        )
        .bind(author_id)
        .bind(second)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().collect())
}
