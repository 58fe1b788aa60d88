//! Scheduling statuses, with Mastodon's rules: at least
//! [`MIN_OFFSET_MILLIS`] ahead, at most [`TOTAL_LIMIT`] waiting per
//! account and [`DAILY_LIMIT`] on one (UTC) day. The uploads a scheduled
//! status names are kept for it until it is published, which goes through
//! [`crate::statuses::post`] like any other post.

use perch_core::time::{UnixMillis, now_millis};
use perch_db::accounts::AccountRow;
use perch_db::scheduled_statuses::{self, ScheduledRow};

use crate::Domain;
use crate::error::{DomainError, Result};

/// How far ahead a status must be scheduled (five minutes, as Mastodon).
pub const MIN_OFFSET_MILLIS: i64 = 5 * 60 * 1000;
/// Scheduled statuses one account may have waiting.
pub const TOTAL_LIMIT: i64 = 300;
/// Scheduled statuses one account may have on one day.
pub const DAILY_LIMIT: i64 = 25;

const DAY_MILLIS: i64 = 24 * 3600 * 1000;

/// A status to publish at `scheduled_at`.
pub struct NewScheduled<'a> {
    pub scheduled_at: UnixMillis,
    /// The request as Mastodon shows it back (JSON), checked already.
    pub params: String,
    pub media_ids: &'a [i64],
}

fn too_soon(scheduled_at: UnixMillis, now: UnixMillis) -> Result<()> {
    if scheduled_at <= now + MIN_OFFSET_MILLIS {
        return Err(DomainError::invalid(
            "Validation failed: Scheduled at The scheduled date must be in the future",
        ));
    }
    Ok(())
}

/// The limits, counted in `tx` without the status `except`.
async fn within_limits(
    tx: &mut perch_db::Tx,
    account_id: i64,
    scheduled_at: UnixMillis,
    except: i64,
) -> Result<()> {
    let day_start = scheduled_at - scheduled_at.rem_euclid(DAY_MILLIS);
    let (total, that_day) =
        scheduled_statuses::counts(tx, account_id, day_start, day_start + DAY_MILLIS, except)
            .await?;
    if total >= TOTAL_LIMIT {
        return Err(DomainError::invalid(format!(
            "Validation failed: Scheduled at You have exceeded the limit of {TOTAL_LIMIT} scheduled posts"
        )));
    }
    if that_day >= DAILY_LIMIT {
        return Err(DomainError::invalid(format!(
            "Validation failed: Scheduled at You have exceeded the limit of {DAILY_LIMIT} scheduled posts for that day"
        )));
    }
    Ok(())
}

/// Schedule a status of local `author`'s; its id.
pub async fn schedule(domain: &Domain, author: &AccountRow, new: NewScheduled<'_>) -> Result<i64> {
    if author.domain.is_some() {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    let now = now_millis();
    too_soon(new.scheduled_at, now)?;
    let row = ScheduledRow {
        id: domain.next_id(),
        account_id: author.id,
        scheduled_at: new.scheduled_at,
        params: new.params,
        created_at: now,
        attempts: 0,
    };
    let mut change = domain.begin().await?;
    within_limits(&mut change.tx, author.id, new.scheduled_at, 0).await?;
    if !scheduled_statuses::insert(&mut change.tx, &row, new.media_ids)
        .await?
        .is_empty()
    {
        return Err(DomainError::invalid(
            "Validation failed: Media attachments must be your own uploads, not used by another status",
        ));
    }
    change.commit().await?;
    Ok(row.id)
}

/// Move `account_id`'s scheduled status `id` to `scheduled_at`; false
/// when there is none such.
pub async fn reschedule(
    domain: &Domain,
    account_id: i64,
    id: i64,
    scheduled_at: UnixMillis,
) -> Result<bool> {
    too_soon(scheduled_at, now_millis())?;
    let mut change = domain.begin().await?;
    within_limits(&mut change.tx, account_id, scheduled_at, id).await?;
    if !scheduled_statuses::reschedule(&mut change.tx, account_id, id, scheduled_at).await? {
        return Ok(false);
    }
    change.commit().await?;
    Ok(true)
}
