//! Lists: an account's groups of the accounts it follows, and their
//! timelines (`list_feed`), fanned out on write as home feeds are: a new
//! status of a member goes into each list of it that shows it (see
//! [`list_takes!`]), and reading a list is a range scan of its rows.

use perch_core::time::UnixMillis;

use crate::accounts::AccountRow;
use crate::page::Page;
use crate::statuses::StatusRow;
use crate::{Db, Result, Tx};

/// How many of a new member's latest statuses join the list's timeline.
const LIST_MERGE: i64 = 40;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ListRow {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    /// `followed`, `list` or `none`.
    pub replies_policy: String,
    pub exclusive: bool,
    pub created_at: UnixMillis,
}

macro_rules! list_columns {
    () => {
        "id, account_id, title, replies_policy, exclusive, created_at"
    };
}

/// Create `list` (its id and owner set).
pub async fn insert(tx: &mut Tx, list: &ListRow) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO lists (id, account_id, title, replies_policy, exclusive, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(list.id)
        .bind(list.account_id)
        .bind(&list.title)
        .bind(&list.replies_policy)
        .bind(list.exclusive)
        .bind(list.created_at)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// How many lists `account_id` has, in `tx` (where the limit is checked).
pub async fn count(tx: &mut Tx, account_id: i64) -> Result<i64> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM lists WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *conn)
            .await?
    }))
}

/// Change a list's title, replies policy and exclusivity.
pub async fn update(tx: &mut Tx, list: &ListRow) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE lists SET title = $3, replies_policy = $4, exclusive = $5 \
             WHERE id = $1 AND account_id = $2",
        )
        .bind(list.id)
        .bind(list.account_id)
        .bind(&list.title)
        .bind(&list.replies_policy)
        .bind(list.exclusive)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Delete a list of `account_id`, its members and timeline with it; false
/// when it has no such list.
pub async fn delete(db: &Db, id: i64, account_id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM lists WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(pool)
            .await?
            .rows_affected()
    }) == 1)
}

/// `account_id`'s list `id`.
pub async fn find(db: &Db, id: i64, account_id: i64) -> Result<Option<ListRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", list_columns!(), " FROM lists WHERE id = $1 AND account_id = $2"
        ))
        .bind(id)
        .bind(account_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// `account_id`'s lists, oldest first.
pub async fn of_account(db: &Db, account_id: i64) -> Result<Vec<ListRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", list_columns!(), " FROM lists WHERE account_id = $1 ORDER BY id"
        ))
        .bind(account_id)
        .fetch_all(pool)
        .await?
    }))
}

/// `account_id`'s lists that `member_id` is in, oldest first.
pub async fn containing(db: &Db, account_id: i64, member_id: i64) -> Result<Vec<ListRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", list_columns!(), " FROM lists \
             WHERE account_id = $1 AND id IN (SELECT list_id FROM list_accounts WHERE account_id = $2) \
             ORDER BY id"
        ))
        .bind(account_id)
        .bind(member_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Add `member_id` to list `list` under the new id `id`, and bring its
/// latest statuses that the list shows into the list's timeline; false
/// when it was a member already. The caller checks that the list's owner
/// follows it.
pub async fn add_member(tx: &mut Tx, id: i64, list: &ListRow, member_id: i64) -> Result<bool> {
    let inserted = on_tx!(&mut *tx, conn => {
        sqlx::query(
            "INSERT INTO list_accounts (id, list_id, account_id) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(list.id)
        .bind(member_id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if inserted == 1 {
        on_tx!(tx, conn => {
            sqlx::query(concat!(
                "INSERT INTO list_feed (list_id, status_id) \
                 SELECT l.id, s.id FROM lists l JOIN statuses s ON s.account_id = $2 \
                 WHERE l.id = $1 AND s.visibility <= 2 AND ", list_takes!(),
                " ORDER BY s.id DESC LIMIT $3 ON CONFLICT DO NOTHING"
            ))
            .bind(list.id)
            .bind(member_id)
            .bind(LIST_MERGE)
            .execute(&mut *conn)
            .await?;
        });
    }
    Ok(inserted == 1)
}

/// Take `member_id` out of list `list_id`, with its statuses out of the
/// list's timeline; false when it was not a member.
pub async fn remove_member(tx: &mut Tx, list_id: i64, member_id: i64) -> Result<bool> {
    let removed = on_tx!(&mut *tx, conn => {
        sqlx::query("DELETE FROM list_accounts WHERE list_id = $1 AND account_id = $2")
            .bind(list_id)
            .bind(member_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    if removed == 1 {
        on_tx!(tx, conn => {
            sqlx::query(
                "DELETE FROM list_feed WHERE list_id = $1 AND status_id IN \
                 (SELECT id FROM statuses WHERE account_id = $2)",
            )
            .bind(list_id)
            .bind(member_id)
            .execute(&mut *conn)
            .await?;
        });
    }
    Ok(removed == 1)
}

/// When `follower_id` stops following `target_id`, the target leaves all
/// of the follower's lists (a list holds only accounts its owner follows).
pub(crate) async fn unfollowed(tx: &mut Tx, follower_id: i64, target_id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM list_feed WHERE list_id IN (SELECT id FROM lists WHERE account_id = $1) \
             AND status_id IN (SELECT id FROM statuses WHERE account_id = $2)",
        )
        .bind(follower_id)
        .bind(target_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "DELETE FROM list_accounts WHERE account_id = $2 \
             AND list_id IN (SELECT id FROM lists WHERE account_id = $1)",
        )
        .bind(follower_id)
        .bind(target_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Put a new status (`author_id`'s, not direct) in the timelines of the
/// lists of its author that show it.
pub(crate) async fn fan_out(tx: &mut Tx, status_id: i64, author_id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(concat!(
            "INSERT INTO list_feed (list_id, status_id) \
             SELECT l.id, s.id FROM statuses s \
             JOIN list_accounts la ON la.account_id = s.account_id \
             JOIN lists l ON l.id = la.list_id \
             WHERE s.id = $1 AND s.account_id = $2 AND ", list_takes!(),
            " ON CONFLICT DO NOTHING"
        ))
        .bind(status_id)
        .bind(author_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// A list's members, as `(membership id, account)`, latest added first.
pub async fn members(db: &Db, list_id: i64, page: &Page) -> Result<Vec<(i64, AccountRow)>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT r.id AS member_id, ", prefixed_account_columns!(),
                    " FROM list_accounts r JOIN accounts a ON a.id = r.account_id \
                     WHERE r.list_id = $1 AND r.id > $2 AND r.id < $3 ORDER BY r.id ",
                    $order, " LIMIT $4"
                ))
                .bind(list_id).bind(lower).bind(upper).bind(page.limit)
                .fetch_all(pool).await?
            })
        };
    }
    let rows: Vec<Member> = if page.ascending() {
        query!("ASC")
    } else {
        query!("DESC")
    };
    Ok(page
        .finish(rows)
        .into_iter()
        .map(|r| (r.member_id, r.account))
        .collect())
}

#[derive(sqlx::FromRow)]
struct Member {
    member_id: i64,
    #[sqlx(flatten)]
    account: AccountRow,
}

/// A page of list `list_id`'s timeline as its owner `owner_id` may read it.
pub async fn timeline(db: &Db, list_id: i64, owner_id: i64, page: &Page) -> Result<Vec<StatusRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", status_columns!(), " FROM list_feed f JOIN statuses s ON s.id = f.status_id \
                     WHERE f.list_id = $1 AND f.status_id > $3 AND f.status_id < $4 AND ",
                    visible_to!("$2"), " AND ", not_kept_from!("$2"),
                    " ORDER BY f.status_id ", $order, " LIMIT $5"
                ))
                .bind(list_id).bind(owner_id).bind(lower).bind(upper).bind(page.limit)
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

/// The lists whose timeline holds a status, as `(list id, owner id)`.
pub async fn feeds_of(db: &Db, status_id: i64) -> Result<Vec<(i64, i64)>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT l.id, l.account_id FROM list_feed f JOIN lists l ON l.id = f.list_id \
             WHERE f.status_id = $1",
        )
        .bind(status_id)
        .fetch_all(pool)
        .await?
    }))
}
