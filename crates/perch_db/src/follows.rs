//! Follows and follow requests, with the account counters kept in step in
//! the same transaction.

use perch_core::time::UnixMillis;

use crate::accounts::AccountRow;
use crate::statuses;
use crate::{Db, Result, Tx};

/// A follow or a follow request.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FollowRow {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    pub uri: Option<String>,
    pub created_at: i64,
}

/// A new follow (or request): `account_id` follows `target_account_id`.
#[derive(Clone, Debug)]
pub struct NewFollow {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    /// The Follow activity's id.
    pub uri: Option<String>,
    pub created_at: UnixMillis,
}

/// Which table a relation lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Follow,
    Request,
}

/// Insert an accepted follow and bump both counters; false when it existed.
pub async fn insert_follow(tx: &mut Tx, follow: &NewFollow) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO follows (id, account_id, target_account_id, uri, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(follow.id)
        .bind(follow.account_id)
        .bind(follow.target_account_id)
        .bind(&follow.uri)
        .bind(follow.created_at)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if inserted == 1 {
        adjust_counters(tx, follow.account_id, follow.target_account_id, 1).await?;
        // A home feed shows what its owner follows: bring in the recent past.
        statuses::merge_into_home(tx, follow.account_id, follow.target_account_id, HOME_MERGE)
            .await?;
    }
    Ok(inserted == 1)
}

/// How many of a newly followed account's statuses join the home feed.
const HOME_MERGE: i64 = 40;

/// Insert a pending follow request; false when one existed.
pub async fn insert_request(tx: &mut Tx, follow: &NewFollow) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO follow_requests (id, account_id, target_account_id, uri, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(follow.id)
        .bind(follow.account_id)
        .bind(follow.target_account_id)
        .bind(&follow.uri)
        .bind(follow.created_at)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(inserted == 1)
}

/// Remove a follow and lower both counters (never below zero). Returns the
/// removed row.
pub async fn delete_follow(
    tx: &mut Tx,
    account_id: i64,
    target_id: i64,
) -> Result<Option<FollowRow>> {
    let removed: Option<FollowRow> = on_tx!(tx, conn => {
        sqlx::query_as(
            "DELETE FROM follows WHERE account_id = $1 AND target_account_id = $2 \
             RETURNING id, account_id, target_account_id, uri, created_at",
        )
        .bind(account_id)
        .bind(target_id)
        .fetch_optional(&mut *conn)
        .await?
    });
    if removed.is_some() {
        adjust_counters(tx, account_id, target_id, -1).await?;
        statuses::remove_from_home(tx, account_id, target_id).await?;
        crate::lists::unfollowed(tx, account_id, target_id).await?;
    }
    Ok(removed)
}

/// Whether `account_id` follows `target_id`, holding the follow until `tx`
/// ends (PostgreSQL locks the row), so that what `tx` adds on the strength
/// of it cannot outlive an unfollow that runs at the same time: the
/// unfollow waits, then sees what `tx` wrote. SQLite runs one writer at a
/// time anyway.
pub async fn hold_follow(tx: &mut Tx, account_id: i64, target_id: i64) -> Result<bool> {
    let found: Option<i64> = match tx {
        Tx::Sqlite(tx) => {
            sqlx::query_scalar(
                "SELECT id FROM follows WHERE account_id = $1 AND target_account_id = $2",
            )
            .bind(account_id)
            .bind(target_id)
            .fetch_optional(&mut **tx)
            .await?
        }
        Tx::Postgres(tx) => {
            sqlx::query_scalar(
                "SELECT id FROM follows WHERE account_id = $1 AND target_account_id = $2 \
                 FOR UPDATE",
            )
            .bind(account_id)
            .bind(target_id)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    Ok(found.is_some())
}

/// Remove a pending request. Returns the removed row.
pub async fn delete_request(
    tx: &mut Tx,
    account_id: i64,
    target_id: i64,
) -> Result<Option<FollowRow>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(
            "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 \
             RETURNING id, account_id, target_account_id, uri, created_at",
        )
        .bind(account_id)
        .bind(target_id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

async fn adjust_counters(tx: &mut Tx, follower: i64, target: i64, delta: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE accounts SET following_count = \
               CASE WHEN following_count + $1 < 0 THEN 0 ELSE following_count + $1 END \
             WHERE id = $2",
        )
        .bind(delta)
        .bind(follower)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE accounts SET followers_count = \
               CASE WHEN followers_count + $1 < 0 THEN 0 ELSE followers_count + $1 END \
             WHERE id = $2",
        )
        .bind(delta)
        .bind(target)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// The follow or request between two accounts, if any.
pub async fn find(
    db: &Db,
    kind: Kind,
    account_id: i64,
    target_id: i64,
) -> Result<Option<FollowRow>> {
    Ok(on_db!(db, pool => {
        match kind {
            Kind::Follow => sqlx::query_as(
                "SELECT id, account_id, target_account_id, uri, created_at FROM follows \
                 WHERE account_id = $1 AND target_account_id = $2",
            ),
            Kind::Request => sqlx::query_as(
                "SELECT id, account_id, target_account_id, uri, created_at FROM follow_requests \
                 WHERE account_id = $1 AND target_account_id = $2",
            ),
        }
        .bind(account_id)
        .bind(target_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// A follow or request by its Follow activity's id.
pub async fn find_by_uri(db: &Db, kind: Kind, uri: &str) -> Result<Option<FollowRow>> {
    Ok(on_db!(db, pool => {
        match kind {
            Kind::Follow => sqlx::query_as(
                "SELECT id, account_id, target_account_id, uri, created_at FROM follows \
                 WHERE uri = $1",
            ),
            Kind::Request => sqlx::query_as(
                "SELECT id, account_id, target_account_id, uri, created_at FROM follow_requests \
                 WHERE uri = $1",
            ),
        }
        .bind(uri)
        .fetch_optional(pool)
        .await?
    }))
}

pub use crate::page::Page;

/// Which list to page through.
#[derive(Clone, Copy, Debug)]
pub enum List {
    /// Accounts following the given account.
    Followers,
    /// Accounts the given account follows.
    Following,
    /// Accounts asking to follow the given account.
    Requests,
}

/// `(relation id, account)` pairs, newest relation first (oldest first
/// when paging forward with `min_id`, as Mastodon does, then reversed).
pub async fn page(
    db: &Db,
    list: List,
    account_id: i64,
    page: &Page,
) -> Result<Vec<(i64, AccountRow)>> {
    let lower = page.lower();
    let upper = page.upper();
    let ascending = page.ascending();
    macro_rules! relation_page {
        ($table:literal, $join:literal, $filter:literal) => {
            on_db!(db, pool => {
                let rows: Vec<RelatedAccount> = if ascending {
                    sqlx::query_as(concat!(
                        "SELECT r.id AS relation_id, ", prefixed_account_columns!(),
                        " FROM ", $table, " r JOIN accounts a ON a.id = ", $join,
                        " WHERE ", $filter, " = $1 AND r.id > $2 AND r.id < $3 \
                          ORDER BY r.id ASC LIMIT $4"
                    ))
                    .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                    .fetch_all(pool).await?
                } else {
                    sqlx::query_as(concat!(
                        "SELECT r.id AS relation_id, ", prefixed_account_columns!(),
                        " FROM ", $table, " r JOIN accounts a ON a.id = ", $join,
                        " WHERE ", $filter, " = $1 AND r.id > $2 AND r.id < $3 \
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
        List::Followers => relation_page!("follows", "r.account_id", "r.target_account_id"),
        List::Following => relation_page!("follows", "r.target_account_id", "r.account_id"),
        List::Requests => relation_page!("follow_requests", "r.account_id", "r.target_account_id"),
    };
    Ok(page
        .finish(rows)
        .into_iter()
        .map(|r| (r.relation_id, r.account))
        .collect())
}

#[derive(sqlx::FromRow)]
struct RelatedAccount {
    relation_id: i64,
    #[sqlx(flatten)]
    account: AccountRow,
}

/// The inboxes that reach `account_id`'s remote followers: each server's
/// shared inbox once, or the personal inbox of followers without one.
pub async fn follower_inboxes(tx: &mut Tx, account_id: i64) -> Result<Vec<String>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT DISTINCT COALESCE(a.shared_inbox_url, a.inbox_url) AS inbox \
             FROM follows f JOIN accounts a ON a.id = f.account_id \
             WHERE f.target_account_id = $1 AND a.domain IS NOT NULL \
               AND a.suspended_at IS NULL \
               AND COALESCE(a.shared_inbox_url, a.inbox_url) IS NOT NULL \
             ORDER BY inbox",
        )
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// The inboxes of every server this one knows of (a shared inbox where an
/// account has one, else each account's own), suspended accounts left
/// out: where the deletion of a local account is announced, as Mastodon
/// announces it, so that no server keeps a copy of what it had.
pub async fn known_inboxes(tx: &mut Tx) -> Result<Vec<String>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT DISTINCT COALESCE(shared_inbox_url, inbox_url) AS inbox FROM accounts \
             WHERE domain IS NOT NULL AND suspended_at IS NULL \
               AND COALESCE(shared_inbox_url, inbox_url) IS NOT NULL \
             ORDER BY inbox",
        )
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// The local accounts that follow `account_id`, at most `limit`, oldest
/// follow first.
pub async fn local_followers(db: &Db, account_id: i64, limit: i64) -> Result<Vec<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", prefixed_account_columns!(), " FROM follows f \
             JOIN accounts a ON a.id = f.account_id \
             WHERE f.target_account_id = $1 AND a.domain IS NULL AND a.suspended_at IS NULL \
             ORDER BY f.id LIMIT $2"
        ))
        .bind(account_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Whether any local account follows `account_id`.
pub async fn has_local_follower(db: &Db, account_id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM follows f JOIN accounts a ON a.id = f.account_id \
             WHERE f.target_account_id = $1 AND a.domain IS NULL)",
        )
        .bind(account_id)
        .fetch_one(pool)
        .await?
    }))
}

/// Whether a local account other than `besides` follows `account_id`.
pub async fn has_local_follower_besides(db: &Db, account_id: i64, besides: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM follows f JOIN accounts a ON a.id = f.account_id \
             WHERE f.target_account_id = $1 AND a.domain IS NULL AND f.account_id <> $2)",
        )
        .bind(account_id)
        .bind(besides)
        .fetch_one(pool)
        .await?
    }))
}
