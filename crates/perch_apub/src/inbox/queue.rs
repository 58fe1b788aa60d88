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
use perch_db::inbound::{self, InboundRow};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::activity::Activity;
use super::intake::Row;
use super::{InboxError, Verified, envelope};
use crate::ApubState;
use crate::delivery::backoff_millis;

/// Activities applied at once by one process.
pub const CONCURRENCY: usize = 16;
/// Free slots the worker waits for before it claims more rows.
const CLAIM_AT: usize = 4;
/// The longest one activity may take to apply; then it is retried later.
pub const ACTIVITY_BUDGET: Duration = Duration::from_secs(120);
/// Attempts before an activity is given up (about two hours of backoff).
pub const MAX_ATTEMPTS: i32 = 8;
/// How often the queue is polled when nobody wakes the worker.
const POLL: Duration = Duration::from_secs(2);

/// Store a verified activity for the workers (in a batch with those that
/// arrive with it: [`super::intake`]); a redelivery of one queued or
/// applied already is dropped here.
pub(super) async fn enqueue(
    state: &ApubState,
    verified: &Verified,
    body: &[u8],
) -> Result<(), InboxError> {
    let body = std::str::from_utf8(body)
        .map_err(|_| InboxError::Malformed("the body is not UTF-8".to_owned()))?;
    let queued = state
        .intake
        .enqueue(Row {
            id: state.ids.next_id().as_i64(),
            uri: verified.id.to_string(),
            actor_account_id: verified.actor_account_id,
            body: body.to_owned(),
            received_at: now_millis(),
        })
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
        Activity::Like(like) | Activity::EmojiReact(like) => like.receive(state, &from).await,
        Activity::Announce(announce) => announce.receive(state, &from).await,
        Activity::Block(block) => block.receive(state, &from).await,
        Activity::Flag(flag) => flag.receive(state, &from).await,
        Activity::Move(moved) => moved.receive(state, &from).await,
        Activity::Add(pin) => pin.receive(state, &from, true).await,
        Activity::Remove(pin) => pin.receive(state, &from, false).await,
        Activity::Unsupported => {
            tracing::debug!(kind = %from.kind, "ignoring an activity type we do not handle");
            Ok(())
        }
    }
}

/// Rows applied or refused, removed together just before the next claim:
/// one statement for many rows instead of one each. A process that dies
/// before removing them leaves them to be claimed again once their lease
/// runs out, and applying a row twice changes nothing the second time.
#[derive(Clone, Default)]
struct Settled(Arc<std::sync::Mutex<Vec<i64>>>);

impl Settled {
    fn push(&self, id: i64) {
        if let Ok(mut ids) = self.0.lock() {
            ids.push(id);
        }
    }

    async fn remove(&self, db: &perch_db::Db) -> Result<(), perch_db::Error> {
        let ids = self
            .0
            .lock()
            .map(|mut ids| std::mem::take(&mut *ids))
            .unwrap_or_default();
        if let Err(error) = inbound::remove_many(db, &ids).await {
            if let Ok(mut kept) = self.0.lock() {
                kept.extend(ids);
            }
            return Err(error);
        }
        Ok(())
    }
}

/// Apply a claimed row within the budget, keeping its lease alive, and
/// settle it: removed (with the next claim) when applied or refused,
/// rescheduled when the failure may pass.
async fn run_one(
    state: &ApubState,
    owner: &str,
    row: InboundRow,
    settled: &Settled,
) -> Result<(), perch_db::Error> {
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
            settled.push(row.id);
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
            settled.push(row.id);
            Ok(())
        }
    }
}

/// Remove the rows settled so far, then claim up to `free` due rows and
/// start applying each on `tasks`, each holding one of `slots` until it is
/// settled. Returns how many started.
async fn start_due(
    state: &ApubState,
    owner: &Arc<str>,
    slots: &Arc<Semaphore>,
    tasks: &TaskTracker,
    settled: &Settled,
) -> Result<usize, perch_db::Error> {
    let free = slots.available_permits();
    // Under load, claim (and settle) a few rows at a time rather than one
    // each time an activity finishes: fewer writes for the same work.
    if free < CLAIM_AT.min(CONCURRENCY) {
        return Ok(0);
    }
    settled.remove(&state.db).await?;
    let now = now_millis();
    let lease = state.config.delivery_lease_millis;
    let rows = inbound::claim_due(&state.db, owner, now, now + lease, free as i64).await?;
    let started = rows.len();
    for row in rows {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let (state, owner, settled) = (state.clone(), owner.clone(), settled.clone());
        tasks.spawn(async move {
            if let Err(error) = run_one(&state, &owner, row, &settled).await {
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
    let settled = Settled::default();
    let mut attempted = 0;
    loop {
        let tasks = TaskTracker::new();
        let started = start_due(state, &owner, &slots, &tasks, &settled).await?;
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
    let settled = Settled::default();
    let wake = state.inbound_wake.clone();
    loop {
        match start_due(&state, &owner, &slots, &tasks, &settled).await {
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
    if let Err(error) = settled.remove(&state.db).await {
        tracing::error!(%error, "inbound worker: database error");
    }
}
