//! Pinned statuses: what an account shows at the top of its profile
//! (Mastodon's pins; ActivityPub's `featured` collection).

use perch_core::time::UnixMillis;

use crate::statuses::StatusRow;
use crate::{Db, Result, Tx};

/// Pin `status_id` for `account_id`; false when it was pinned already.
pub async fn pin(tx: &mut Tx, account_id: i64, status_id: i64, now: UnixMillis) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO status_pins (account_id, status_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(account_id)
        .bind(status_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }) == 1)
}

/// Unpin; false when it was not pinned.
pub async fn unpin(tx: &mut Tx, account_id: i64, status_id: i64) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("DELETE FROM status_pins WHERE account_id = $1 AND status_id = $2")
            .bind(account_id)
            .bind(status_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    }) == 1)
}

/// How many statuses `account_id` has pinned, in `tx` (where the limit is
/// checked).
pub async fn count(tx: &mut Tx, account_id: i64) -> Result<i64> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM status_pins WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&mut *conn)
            .await?
    }))
}

/// Replace what `account_id` (a remote account) has pinned with
/// `status_ids`, its collection as last read, newest first.
pub async fn replace(
    tx: &mut Tx,
    account_id: i64,
    status_ids: &[i64],
    now: UnixMillis,
) -> Result<()> {
    on_tx!(&mut *tx, conn => {
        sqlx::query("DELETE FROM status_pins WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
    });
    // Listed newest first: the first gets the latest time.
    for (n, status_id) in (0_i64..).zip(status_ids) {
        pin(tx, account_id, *status_id, now - n).await?;
    }
    Ok(())
}

/// `account_id`'s pinned statuses that `viewer` (0: nobody) may read,
/// latest pin first.
pub async fn pinned(db: &Db, account_id: i64, viewer: i64, limit: i64) -> Result<Vec<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", status_columns!(), " FROM status_pins p \
             JOIN statuses s ON s.id = p.status_id \
             WHERE p.account_id = $1 AND s.account_id = $1 AND ", visible_to!("$2"),
            " ORDER BY p.created_at DESC, s.id DESC LIMIT $3"
        ))
        .bind(account_id)
        .bind(viewer)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Which of `status_ids` `account_id` has pinned.
pub async fn pinned_among(db: &Db, account_id: i64, status_ids: &[i64]) -> Result<Vec<i64>> {
    if status_ids.is_empty() || account_id == 0 {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        status_ids,
        query_scalar,
        "SELECT status_id FROM status_pins WHERE status_id",
        " AND account_id = $2",
        account_id
    ))
}
