//! The inbound queue's two ends: [`enqueue`], called by the inbox once an
//! activity is verified, and the workers that apply what was queued.
//!
//! Each process runs one [`worker`] with at most [`CONCURRENCY`] activities
//! in flight. A claimed row is leased and the lease is renewed while its
//! activity is being applied; a process that dies leaves its rows to be
//! claimed again once the lease runs out. Applying one activity may take
//! at most [`ACTIVITY_BUDGET`] (fetching parents, objects, outboxes).
//! Failures that may pass (another server not answering, the database) are
//! retried with backoff, [`MAX_ATTEMPTS`] times in all; refusals are final.
//! One actor's activities are applied one at a time, in arrival order
//! (the queue does not hand out a row while an older one of its actor is
//! queued); different actors' activities are applied concurrently.

use std::sync::Arc;
use std::time::Duration;

use perch_core::time::now_millis;
use perch_db::inbound::{self, InboundRow, NewInbound};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::activity::Activity;
use super::{InboxError, Verified, envelope};
use crate::ApubState;
use crate::delivery::backoff_millis;

/// Activities applied at once by one process.
pub const CONCURRENCY: usize = 16;
/// The longest one activity may take to apply; then it is retried later.
pub const ACTIVITY_BUDGET: Duration = Duration::from_secs(120);
/// Attempts before an activity is given up (about two hours of backoff).
pub const MAX_ATTEMPTS: i32 = 8;
/// How often the queue is polled when nobody wakes the worker.
const POLL: Duration = Duration::from_secs(2);

/// Store a verified activity for the workers; a redelivery of one queued
/// or applied already is dropped here.
pub(super) async fn enqueue(
    state: &ApubState,
    verified: &Verified,
    body: &[u8],
) -> Result<(), InboxError> {
    let body = std::str::from_utf8(body)
        .map_err(|_| InboxError::Malformed("the body is not UTF-8".to_owned()))?;
    let queued = inbound::enqueue(
        &state.db,
        &NewInbound {
            id: state.ids.next_id().as_i64(),
            uri: verified.id.as_str(),
            actor_account_id: verified.actor_account_id,
            body,
            received_at: now_millis(),
        },
    )
    .await?;
    if queued {
        metrics::counter!("perch_inbox_activities", "outcome" => "queued").increment(1);
        state.inbound_wake.notify_one();
    } else {
        metrics::counter!("perch_inbox_activities", "outcome" => "duplicate").increment(1);
    }
    Ok(())
}

/// Apply one queued activity.
async fn apply(state: &ApubState, row: &InboundRow) -> Result<(), InboxError> {
    let activity: Value = serde_json::from_str(&row.body)
        .map_err(|e| InboxError::Malformed(format!("not JSON: {e}")))?;
    let (id, kind, actor) = envelope(&activity)?;
    let verified = Verified {
        activity,
        id,
        kind,
        actor,
        actor_account_id: row.actor_account_id,
    };
    let span = tracing::info_span!("activity", id = %verified.id, kind = %verified.kind);
    dispatch(state, verified).instrument(span).await
}

/// The activity, parsed by kind, applied by its handler.
async fn dispatch(state: &ApubState, from: Verified) -> Result<(), InboxError> {
    let activity = Activity::deserialize(&from.activity)
        .map_err(|e| InboxError::Malformed(format!("{} activity: {e}", from.kind)))?;
    match activity {
        Activity::Follow(follow) => follow.receive(state, &from).await,
        Activity::Accept(answer) => answer.receive(state, &from, true).await,
        Activity::Reject(answer) => answer.receive(state, &from, false).await,
        Activity::Undo(undo) => undo.receive(state, &from).await,
        Activity::Create(create) => create.receive(state, &from).await,
        Activity::Update(update) => update.receive(state, &from).await,
        Activity::Delete(delete) => delete.receive(state, &from).await,
        Activity::Like(like) => like.receive(state, &from).await,
        Activity::Announce(announce) => announce.receive(state, &from).await,
        Activity::Unsupported => {
            tracing::debug!(kind = %from.kind, "ignoring an activity type we do not handle");
            Ok(())
        }
    }
}

/// Apply a claimed row within the budget, keeping its lease alive, and
/// settle it: removed when applied or refused, rescheduled when the
/// failure may pass.
async fn run_one(state: &ApubState, owner: &str, row: InboundRow) -> Result<(), perch_db::Error> {
    let lease = state.config.delivery_lease_millis;
    let renew_every = Duration::from_millis(u64::try_from(lease / 3).unwrap_or(1000).max(100));
    let applying = tokio::time::timeout(ACTIVITY_BUDGET, apply(state, &row));
    tokio::pin!(applying);
    let outcome = loop {
        tokio::select! {
            outcome = &mut applying => break outcome,
            () = tokio::time::sleep(renew_every) => {
                inbound::renew_lease(&state.db, row.id, owner, now_millis() + lease).await?;
            }
        }
    };
    let outcome = outcome.unwrap_or_else(|_| {
        Err(InboxError::Unavailable(format!(
            "not applied within {} s",
            ACTIVITY_BUDGET.as_secs()
        )))
    });
    match outcome {
        Ok(()) => {
            inbound::remove(&state.db, row.id).await?;
            tracing::debug!(activity = %row.uri, "activity applied");
            metrics::counter!("perch_inbox_activities", "outcome" => "applied").increment(1);
            metrics::histogram!("perch_inbox_latency_seconds")
                .record((now_millis() - row.received_at).max(0) as f64 / 1000.0);
            Ok(())
        }
        Err(error) if error.is_transient() && row.attempts + 1 < MAX_ATTEMPTS => {
            tracing::info!(activity = %row.uri, %error, "applying an activity failed; will retry");
            metrics::counter!("perch_inbox_activities", "outcome" => "retry").increment(1);
            let retry_at = now_millis() + backoff_millis(row.attempts);
            inbound::retry_later(&state.db, row.id, owner, &error.to_string(), retry_at).await
        }
        Err(error) => {
            let outcome = if error.is_transient() {
                tracing::warn!(activity = %row.uri, %error, "an activity was given up");
                "failed"
            } else {
                tracing::info!(activity = %row.uri, %error, "an activity was refused");
                "refused"
            };
            metrics::counter!("perch_inbox_activities", "outcome" => outcome).increment(1);
            inbound::remove(&state.db, row.id).await
        }
    }
}

/// Claim up to `free` due rows and start applying each on `tasks`, each
/// holding one of `slots` until it is settled. Returns how many started.
async fn start_due(
    state: &ApubState,
    owner: &Arc<str>,
    slots: &Arc<Semaphore>,
    tasks: &TaskTracker,
) -> Result<usize, perch_db::Error> {
    let free = slots.available_permits();
    if free == 0 {
        return Ok(0);
    }
    let now = now_millis();
    let lease = state.config.delivery_lease_millis;
    let rows = inbound::claim_due(&state.db, owner, now, now + lease, free as i64).await?;
    let started = rows.len();
    for row in rows {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let (state, owner) = (state.clone(), owner.clone());
        tasks.spawn(async move {
            if let Err(error) = run_one(&state, &owner, row).await {
                tracing::error!(%error, "inbound worker: database error");
            }
            drop(permit);
            // A settled row may let the next one about its object go.
            state.inbound_wake.notify_one();
        });
    }
    Ok(started)
}

/// Apply every due activity, waiting for each, until none is due. Returns
/// how many were attempted. Tests call this to drain the queue.
pub async fn run_due(state: &ApubState, owner: &str) -> Result<usize, perch_db::Error> {
    let owner: Arc<str> = Arc::from(owner);
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut attempted = 0;
    loop {
        let tasks = TaskTracker::new();
        let started = start_due(state, &owner, &slots, &tasks).await?;
        tasks.close();
        tasks.wait().await;
        if started == 0 {
            return Ok(attempted);
        }
        attempted += started;
    }
}

/// The background worker: applies due activities whenever woken (one was
/// queued, or one finished) or every few seconds, until `stop`; then lets
/// those in flight finish.
pub async fn worker(state: ApubState, owner: String, stop: CancellationToken) {
    let owner: Arc<str> = Arc::from(owner);
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let tasks = TaskTracker::new();
    let wake = state.inbound_wake.clone();
    loop {
        match start_due(&state, &owner, &slots, &tasks).await {
            Ok(started) if started > 0 && slots.available_permits() > 0 => continue,
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "inbound worker: database error"),
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {
                if let Ok(pending) = inbound::pending_count(&state.db).await {
                    metrics::gauge!("perch_inbox_queue_depth").set(pending as f64);
                }
            }
        }
    }
    tasks.close();
    tasks.wait().await;
}
