//! Favourites (likes), unique per (account, status), with the status's
//! counter kept in step in the same transaction.

use perch_core::time::UnixMillis;

use crate::accounts::AccountRow;
use crate::page::Page;
use crate::statuses::StatusRow;
use crate::{Db, Result, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FavouriteRow {
    pub id: i64,
    pub account_id: i64,
    pub status_id: i64,
    /// The Like activity's id.
    pub uri: Option<String>,
    pub created_at: i64,
}

/// Like a status; false when the account liked it already (nothing changes).
pub async fn insert(
    tx: &mut Tx,
    id: i64,
    account_id: i64,
    status_id: i64,
    uri: Option<&str>,
    now: UnixMillis,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        let inserted = sqlx::query(
            "INSERT INTO favourites (id, account_id, status_id, uri, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(account_id)
        .bind(status_id)
        .bind(uri)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted == 1 {
            sqlx::query(
                "UPDATE statuses SET favourites_count = favourites_count + 1 WHERE id = $1",
            )
            .bind(status_id)
            .execute(&mut *conn)
            .await?;
        }
        inserted
    });
    Ok(inserted == 1)
}

/// Take a like back; the removed like, if there was one.
pub async fn delete(tx: &mut Tx, account_id: i64, status_id: i64) -> Result<Option<FavouriteRow>> {
    let row: Option<FavouriteRow> = on_tx!(tx, conn => {
        let row: Option<FavouriteRow> = sqlx::query_as(
            "DELETE FROM favourites WHERE account_id = $1 AND status_id = $2 \
             RETURNING id, account_id, status_id, uri, created_at",
        )
        .bind(account_id)
        .bind(status_id)
        .fetch_optional(&mut *conn)
        .await?;
        if row.is_some() {
            sqlx::query(
                "UPDATE statuses SET favourites_count = favourites_count - 1 \
                 WHERE id = $1 AND favourites_count > 0",
            )
            .bind(status_id)
            .execute(&mut *conn)
            .await?;
        }
        row
    });
    Ok(row)
}

pub async fn find(db: &Db, account_id: i64, status_id: i64) -> Result<Option<FavouriteRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_id, status_id, uri, created_at FROM favourites \
             WHERE account_id = $1 AND status_id = $2",
        )
        .bind(account_id)
        .bind(status_id)
        .fetch_optional(pool)
        .await?
    }))
}

pub async fn find_by_uri(db: &Db, uri: &str) -> Result<Option<FavouriteRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_id, status_id, uri, created_at FROM favourites WHERE uri = $1",
        )
        .bind(uri)
        .fetch_optional(pool)
        .await?
    }))
}

/// Which of `status_ids` `viewer` has liked.
pub async fn favourited_among(db: &Db, viewer: i64, status_ids: &[i64]) -> Result<Vec<i64>> {
    if status_ids.is_empty() || viewer == 0 {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        status_ids,
        query_scalar,
        "SELECT f.status_id FROM favourites f WHERE f.status_id",
        " AND f.account_id = $2",
        viewer
    ))
}

/// A page of `(relation id, account)`: `$from` joins a relation table
/// aliased `r` to `accounts a`, `$key` is the column that must equal
/// `$key_value`; ordered by the relation's id, newest first.
macro_rules! related_accounts {
    ($db:expr, $page:expr, $key_value:expr, $from:literal, $key:literal) => {{
        let (lower, upper) = ($page.lower(), $page.upper());
        macro_rules! query {
            ($order:literal) => {
                on_db!($db, pool => {
                    sqlx::query_as(concat!(
                        "SELECT r.id AS relation_id, ", prefixed_account_columns!(), " FROM ",
                        $from, " WHERE ", $key, " = $1 AND r.id > $2 AND r.id < $3 ORDER BY r.id ",
                        $order, " LIMIT $4"
                    ))
                    .bind($key_value).bind(lower).bind(upper).bind($page.limit)
                    .fetch_all(pool).await?
                })
            };
        }
        let rows: Vec<Related> = if $page.ascending() { query!("ASC") } else { query!("DESC") };
        $page
            .finish(rows)
            .into_iter()
            .map(|r| (r.relation_id, r.account))
            .collect::<Vec<_>>()
    }};
}

/// Accounts that liked a status, as `(favourite id, account)`, newest first.
pub async fn favourited_by(db: &Db, status_id: i64, page: &Page) -> Result<Vec<(i64, AccountRow)>> {
    Ok(related_accounts!(
        db,
        page,
        status_id,
        "favourites r JOIN accounts a ON a.id = r.account_id",
        "r.status_id"
    ))
}

/// Accounts that reblogged a status, as `(reblog id, account)`, newest first.
pub async fn reblogged_by(db: &Db, status_id: i64, page: &Page) -> Result<Vec<(i64, AccountRow)>> {
    Ok(related_accounts!(
        db,
        page,
        status_id,
        "statuses r JOIN accounts a ON a.id = r.account_id",
        "r.reblog_of_id"
    ))
}

/// The statuses `account_id` liked that it may still read, as
/// `(favourite id, status)`, most recently liked first.
pub async fn liked_statuses(
    db: &Db,
    account_id: i64,
    page: &Page,
) -> Result<Vec<(i64, StatusRow)>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT f.id AS favourite_id, ", status_columns!(),
                    " FROM favourites f JOIN statuses s ON s.id = f.status_id \
                     WHERE f.account_id = $1 AND f.id > $2 AND f.id < $3 AND ",
                    visible_to!("$1"), " ORDER BY f.id ", $order, " LIMIT $4"
                ))
                .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                .fetch_all(pool).await?
            })
        };
    }
    let rows: Vec<Liked> = if page.ascending() {
        query!("ASC")
    } else {
        query!("DESC")
    };
    Ok(page
        .finish(rows)
        .into_iter()
        .map(|r| (r.favourite_id, r.status))
        .collect())
}

#[derive(sqlx::FromRow)]
struct Related {
    relation_id: i64,
    #[sqlx(flatten)]
    account: AccountRow,
}

#[derive(sqlx::FromRow)]
struct Liked {
    favourite_id: i64,
    #[sqlx(flatten)]
    status: StatusRow,
}
