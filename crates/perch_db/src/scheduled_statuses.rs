//! Scheduled statuses: posts an account asked to publish later, with the
//! uploads they keep, and the queue that publishes them when due.
//!
//! The queue is claimed as the push queue is: a due row is claimed until a
//! deadline by one `UPDATE … RETURNING`, which one process wins; a process
//! that dies lets its claim lapse. The row itself is deleted in the
//! transaction that posts the status, so it is published once.

use perch_core::time::UnixMillis;

use crate::page::Page;
use crate::{Db, Result, Tx};

/// A row of `scheduled_statuses`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ScheduledRow {
    pub id: i64,
    pub account_id: i64,
    pub scheduled_at: i64,
    /// The request, as Mastodon shows it (JSON).
    pub params: String,
    pub created_at: i64,
    pub attempts: i32,
}

/// Store `row` and keep its uploads `media_ids` for it; the ids of those
/// that are not `row.account_id`'s unused uploads (the caller then rolls
/// back and refuses).
pub async fn insert(tx: &mut Tx, row: &ScheduledRow, media_ids: &[i64]) -> Result<Vec<i64>> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO scheduled_statuses (id, account_id, scheduled_at, params, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(row.id)
        .bind(row.account_id)
        .bind(row.scheduled_at)
        .bind(&row.params)
        .bind(row.created_at)
        .execute(&mut *conn)
        .await?;
    });
    let mut refused = Vec::new();
    for id in media_ids {
        let kept = on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE media_attachments SET scheduled_status_id = $1 \
                 WHERE id = $2 AND account_id = $3 AND status_id IS NULL \
                 AND scheduled_status_id IS NULL",
            )
            .bind(row.id)
            .bind(id)
            .bind(row.account_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if kept == 0 {
            refused.push(*id);
        }
    }
    Ok(refused)
}

/// How many statuses `account_id` has scheduled, in all and between
/// `day_start` and `day_end` (exclusive), leaving out `except`.
pub async fn counts(
    tx: &mut Tx,
    account_id: i64,
    day_start: UnixMillis,
    day_end: UnixMillis,
    except: i64,
) -> Result<(i64, i64)> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN scheduled_at >= $2 AND scheduled_at < $3 \
               THEN 1 ELSE 0 END), 0) \
             FROM scheduled_statuses WHERE account_id = $1 AND id <> $4",
        )
        .bind(account_id)
        .bind(day_start)
        .bind(day_end)
        .bind(except)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// `account_id`'s scheduled status `id`.
pub async fn find(db: &Db, account_id: i64, id: i64) -> Result<Option<ScheduledRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_id, scheduled_at, params, created_at, attempts \
             FROM scheduled_statuses WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(account_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// `account_id`'s scheduled statuses, newest first, paged by id.
pub async fn page(db: &Db, account_id: i64, page: &Page) -> Result<Vec<ScheduledRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT id, account_id, scheduled_at, params, created_at, attempts \
                     FROM scheduled_statuses WHERE account_id = $1 AND id > $2 AND id < $3 \
                     ORDER BY id ", $order, " LIMIT $4"
                ))
                .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                .fetch_all(pool).await?
            })
        };
    }
    let rows: Vec<ScheduledRow> = if page.ascending() {
        query!("ASC")
    } else {
        query!("DESC")
    };
    Ok(page.finish(rows))
}

/// Move `account_id`'s scheduled status `id` to `scheduled_at`, in `tx`;
/// false when there is none.
pub async fn reschedule(
    tx: &mut Tx,
    account_id: i64,
    id: i64,
    scheduled_at: UnixMillis,
) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE scheduled_statuses SET scheduled_at = $3, claimed_until = NULL, \
             attempts = 0 WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(account_id)
        .bind(scheduled_at)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }) == 1)
}

/// Cancel `account_id`'s scheduled status `id` (its uploads become
/// unattached again); false when there is none.
pub async fn remove(db: &Db, account_id: i64, id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM scheduled_statuses WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(pool)
            .await?
            .rows_affected()
    }) == 1)
}

/// Take scheduled status `id` off the queue in the transaction that
/// publishes it; false when it is gone (published or cancelled meanwhile).
pub async fn take(tx: &mut Tx, id: i64) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("DELETE FROM scheduled_statuses WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    }) == 1)
}

/// Claim up to `limit` statuses due at `now` until `until`.
pub async fn claim_due(
    db: &Db,
    now: UnixMillis,
    until: UnixMillis,
    limit: i64,
) -> Result<Vec<ScheduledRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "UPDATE scheduled_statuses SET claimed_until = $2 \
             WHERE id IN ( \
               SELECT id FROM scheduled_statuses \
               WHERE scheduled_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
               ORDER BY scheduled_at LIMIT $3) \
             AND (claimed_until IS NULL OR claimed_until < $1) \
             RETURNING id, account_id, scheduled_at, params, created_at, attempts",
        )
        .bind(now)
        .bind(until)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Try a claimed status again once `at` has passed.
pub async fn retry(db: &Db, id: i64, at: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE scheduled_statuses SET attempts = attempts + 1, claimed_until = $2 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(at)
        .execute(pool)
        .await?;
    });
    Ok(())
}
