//! What moderators do to accounts: the suspended, silenced and sensitive
//! marks on `accounts`, a local user's disabled login, and the listing
//! moderators page through.

use perch_core::time::UnixMillis;

use crate::accounts::AccountRow;
use crate::page::Page;
use crate::{Db, Result, Tx};

/// A mark a moderator sets on an account, or takes off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Suspended,
    Silenced,
    Sensitized,
}

/// Set `mark` on the account (`Some(time)`) or take it off (`None`);
/// false when there is no such account.
pub async fn set_mark(
    tx: &mut Tx,
    account_id: i64,
    mark: Mark,
    at: Option<UnixMillis>,
) -> Result<bool> {
    macro_rules! update {
        ($column:literal) => {
            on_tx!(tx, conn => {
                sqlx::query(concat!("UPDATE accounts SET ", $column, " = $1 WHERE id = $2"))
                    .bind(at)
                    .bind(account_id)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected()
            })
        };
    }
    let changed = match mark {
        Mark::Suspended => update!("suspended_at"),
        Mark::Silenced => update!("silenced_at"),
        Mark::Sensitized => update!("sensitized_at"),
    };
    Ok(changed == 1)
}

/// Disable a local user's login (`Some(time)`) or enable it (`None`).
pub async fn set_disabled(tx: &mut Tx, account_id: i64, at: Option<UnixMillis>) -> Result<bool> {
    let changed = on_tx!(tx, conn => {
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE account_id = $2")
            .bind(at)
            .bind(account_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    Ok(changed == 1)
}

/// The actor ids of the remote accounts that are suspended: their
/// activities are dropped before anything else is done with them.
pub async fn suspended_remote_actors(db: &Db) -> Result<Vec<(String, String)>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT uri, domain FROM accounts \
             WHERE suspended_at IS NOT NULL AND domain IS NOT NULL",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Take the account's statuses, and reblogs of them, out of every home
/// feed: a suspended account's content is no longer served.
pub async fn clear_from_feeds(tx: &mut Tx, author_id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM home_feed WHERE status_id IN ( \
               SELECT s.id FROM statuses s WHERE s.account_id = $1 \
               UNION SELECT r.id FROM statuses r JOIN statuses s ON s.id = r.reblog_of_id \
                 WHERE s.account_id = $1)",
        )
        .bind(author_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Which accounts a moderator lists.
#[derive(Clone, Debug, Default)]
pub struct AccountFilter {
    /// `Some(true)`: local only; `Some(false)`: remote only.
    pub local: Option<bool>,
    pub suspended: bool,
    pub silenced: bool,
    pub disabled: bool,
    /// Local sign-ups waiting for approval.
    pub pending: bool,
    /// Usernames starting with this (case-insensitive).
    pub username: Option<String>,
    /// Accounts of this server.
    pub domain: Option<String>,
}

/// A page of accounts, newest first, by account id.
pub async fn page(db: &Db, filter: &AccountFilter, page: &Page) -> Result<Vec<AccountRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    let username = filter
        .username
        .as_deref()
        .map(|u| format!("{}%", u.to_lowercase().replace(['%', '_'], "")));
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", prefixed_account_columns!(), " FROM accounts a \
                     LEFT JOIN users u ON u.account_id = a.id \
                     WHERE a.id > $1 AND a.id < $2 AND a.actor_type <> 'Application' \
                     AND ($4 IS NULL OR (a.domain IS NULL) = $4) \
                     AND ($5 = FALSE OR a.suspended_at IS NOT NULL) \
                     AND ($6 = FALSE OR a.silenced_at IS NOT NULL) \
                     AND ($7 = FALSE OR u.disabled_at IS NOT NULL) \
                     AND ($8 = FALSE OR (u.account_id IS NOT NULL AND NOT u.approved)) \
                     AND ($9 IS NULL OR lower(a.username) LIKE $9) \
                     AND ($10 IS NULL OR a.domain = $10) \
                     ORDER BY a.id ", $order, " LIMIT $3"
                ))
                .bind(lower).bind(upper).bind(page.limit).bind(filter.local)
                .bind(filter.suspended).bind(filter.silenced).bind(filter.disabled)
                .bind(filter.pending).bind(username.as_deref()).bind(filter.domain.as_deref())
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

/// Remove a local sign-up still waiting for approval (with its user and
/// keys); false when there is none such.
pub async fn delete_pending(db: &Db, account_id: i64) -> Result<bool> {
    let deleted = on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM accounts WHERE id = $1 AND domain IS NULL AND EXISTS ( \
               SELECT 1 FROM users u WHERE u.account_id = $1 AND NOT u.approved)",
        )
        .bind(account_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(deleted == 1)
}
