//! Bookmarks: statuses an account keeps to read later, seen by it alone.

use perch_core::time::UnixMillis;

use crate::page::Page;
use crate::statuses::StatusRow;
use crate::{Db, Result};

/// Bookmark `status_id` for `account_id` under the new id `id`; false when
/// it was bookmarked already (the first bookmark keeps its place).
pub async fn bookmark(
    db: &Db,
    id: i64,
    account_id: i64,
    status_id: i64,
    now: UnixMillis,
) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO bookmarks (id, account_id, status_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(account_id)
        .bind(status_id)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    }) == 1)
}

/// Remove a bookmark; false when there was none.
pub async fn unbookmark(db: &Db, account_id: i64, status_id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM bookmarks WHERE account_id = $1 AND status_id = $2")
            .bind(account_id)
            .bind(status_id)
            .execute(pool)
            .await?
            .rows_affected()
    }) == 1)
}

/// Which of `status_ids` `account_id` (0: nobody) has bookmarked.
pub async fn bookmarked_among(db: &Db, account_id: i64, status_ids: &[i64]) -> Result<Vec<i64>> {
    if status_ids.is_empty() || account_id == 0 {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        status_ids,
        query_scalar,
        "SELECT status_id FROM bookmarks WHERE status_id",
        " AND account_id = $2",
        account_id
    ))
}

/// The statuses `account_id` bookmarked that it may still read, as
/// `(bookmark id, status)`, most recently bookmarked first.
pub async fn bookmarked_statuses(
    db: &Db,
    account_id: i64,
    page: &Page,
) -> Result<Vec<(i64, StatusRow)>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT b.id AS bookmark_id, ", status_columns!(),
                    " FROM bookmarks b JOIN statuses s ON s.id = b.status_id \
                     WHERE b.account_id = $1 AND b.id > $2 AND b.id < $3 AND ",
                    visible_to!("$1"), " ORDER BY b.id ", $order, " LIMIT $4"
                ))
                .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                .fetch_all(pool).await?
            })
        };
    }
    let rows: Vec<Bookmarked> = if page.ascending() {
        query!("ASC")
    } else {
        query!("DESC")
    };
    Ok(page
        .finish(rows)
        .into_iter()
        .map(|r| (r.bookmark_id, r.status))
        .collect())
}

#[derive(sqlx::FromRow)]
struct Bookmarked {
    bookmark_id: i64,
    #[sqlx(flatten)]
    status: StatusRow,
}
