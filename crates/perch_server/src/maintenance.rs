//! Housekeeping that runs in every process: dropping what is kept only for
//! a while, ending mutes and polls whose time is up. Each task is idempotent, so several processes running it at
//! once do no harm, and each purge works in small batches, so that none
//! holds the database's write lock for long.

use std::future::Future;
use std::time::Duration;

use perch_core::time::{UnixMillis, now_millis};
use perch_db::{Db, retention};

use crate::config::Retention;
use tokio_util::sync::CancellationToken;

/// How often housekeeping runs.
const EVERY: Duration = Duration::from_secs(3600);

const DAY: i64 = 24 * 3600 * 1000;
/// Published activities, once no delivery needs them.
const PUBLISHED_ACTIVITIES: i64 = DAY;
/// Batches one purge may run in one pass (a million rows at most); the
/// rest waits for the next pass.
const MAX_BATCHES: usize = 1000;

/// Run until `stop`: at start, then every hour.
pub async fn worker(db: Db, api: perch_api::ApiState, keep: Retention, stop: CancellationToken) {
    loop {
        let files = perch_api::media_files::StoredFiles(&api.config);
        match perch_domain::media::purge_unattached(&api.domain, &files, now_millis()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "unattached uploads deleted"),
            Err(error) => tracing::warn!(%error, "deleting unattached uploads failed"),
        }
        match perch_db::user_events::purge(&db, now_millis()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired chat events purged"),
            Err(error) => tracing::warn!(%error, "purging expired chat events failed"),
        }
        purge_expired(&db, &keep, now_millis(), &stop).await;
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

/// How often mutes whose time is up are ended: a mute of an hour should
/// not last much longer.
const MUTE_EXPIRY_EVERY: Duration = Duration::from_secs(30);

/// Run until `stop`: end the mutes whose time is up, twice a minute.
pub async fn end_mutes(domain: perch_domain::Domain, stop: CancellationToken) {
    loop {
        match perch_domain::blocks::end_expired_mutes(&domain).await {
            Ok(0) => {}
            Ok(ended) => tracing::info!(ended, "mutes whose time was up ended"),
            Err(error) => tracing::warn!(%error, "ending expired mutes failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(MUTE_EXPIRY_EVERY) => {}
        }
    }
}

/// How often polls whose time is up are ended: their voters hear of it
/// within this much of the end.
const POLL_EXPIRY_EVERY: Duration = Duration::from_secs(15);

/// Run until `stop`: end the polls whose time is up (notifying their
/// authors and voters, sending the final totals), four times a minute.
/// Which polls are due is read from the database, so none is missed across
/// restarts, and each is ended once whichever process sees it first.
pub async fn end_polls(domain: perch_domain::Domain, stop: CancellationToken) {
    loop {
        match perch_domain::polls::close_expired(&domain, now_millis()).await {
            Ok(0) => {}
            Ok(ended) => tracing::info!(ended, "polls whose time was up ended"),
            Err(error) => tracing::warn!(%error, "ending expired polls failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(POLL_EXPIRY_EVERY) => {}
        }
    }
}

fn millis(period: Duration) -> i64 {
    i64::try_from(period.as_millis()).unwrap_or(i64::MAX)
}

/// Every retention purge, as of `now`. Returns the rows deleted.
pub async fn purge_expired(
    db: &Db,
    keep: &Retention,
    now: UnixMillis,
    stop: &CancellationToken,
) -> u64 {
    let idempotency = now - perch_domain::statuses::IDEMPOTENCY_WINDOW_MILLIS;
    let mut purged = 0;
    purged += repeat("received activity ids", stop, || {
        retention::received_activities(db, now.saturating_sub(millis(keep.activity_ids)))
    })
    .await;
    purged += repeat("finished deliveries", stop, || {
        retention::finished_deliveries(db, now.saturating_sub(millis(keep.deliveries)))
    })
    .await;
    purged += repeat("published activities", stop, || {
        retention::delivered_activities(db, now - PUBLISHED_ACTIVITIES)
    })
    .await;
    purged += repeat("expired codes and refresh tokens", stop, || {
        retention::expired_credentials(db, now)
    })
    .await;
    purged += repeat("idempotency keys", stop, || {
        retention::idempotency_keys(db, idempotency)
    })
    .await;
    purged += repeat("old home feed entries", stop, || {
        retention::home_feeds(db, i64::from(keep.home_feed_entries))
    })
    .await;
    purged += repeat("old list timeline entries", stop, || {
        retention::list_feeds(db, i64::from(keep.home_feed_entries))
    })
    .await;
    purged
}

/// Run `purge` until it deletes less than a batch (or `stop`), letting
/// other work at the database between batches.
async fn repeat<F, Fut>(what: &str, stop: &CancellationToken, mut purge: F) -> u64
where
    F: FnMut() -> Fut,
    Fut: Future<Output = perch_db::Result<u64>>,
{
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        if stop.is_cancelled() {
            break;
        }
        match purge().await {
            Ok(deleted) => {
                total += deleted;
                if deleted < retention::BATCH as u64 {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, what, "a purge failed");
                break;
            }
        }
        tokio::task::yield_now().await;
    }
    if total > 0 {
        tracing::info!(purged = total, what, "expired rows purged");
    }
    total
}
