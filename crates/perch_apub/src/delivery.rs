//! The delivery worker: claims due jobs from the persistent queue, signs
//! each request with its author's key at send time, posts it, and records
//! the outcome. Each request is signed in the scheme its server accepts
//! ([`crate::knock`]: RFC 9421 first for a server not known yet, then
//! draft-cavage).
//!
//! Outcomes: 2xx delivered; 404 and 410 given up at once, and the inbox is
//! recorded as gone (later jobs for it fail at once, recorded, until its
//! actor is heard from again); other 4xx but 408 and 429 given up (the
//! receiver refuses this activity, and retrying will not change its mind);
//! 408, 429, 5xx and network failures retried with exponential backoff and
//! jitter over about four days, then given up and recorded.
//!
//! Per server: at most [`PER_HOST`] requests at once; after
//! [`CIRCUIT_AFTER`] consecutive failures its circuit opens (its jobs are
//! not claimed, so they spend no attempts) for a minute, doubling to an
//! hour; a server failing for a week is marked unavailable and probed every
//! six hours. Any answer, or a verified activity from it, closes the
//! circuit. A claimed job is leased (`delivery_lease_millis`, renewed as
//! each request starts): a process that dies leaves its jobs to others
//! once the lease runs out.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use perch_core::time::now_millis;
use perch_db::deliveries::{self, Job};
use rand::Rng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::ApubState;
use crate::fetch::FetchError;

/// Jobs claimed at once.
const BATCH: i64 = 64;
/// Attempts before giving up: with the backoff below, about four days.
const MAX_ATTEMPTS: i32 = 16;
/// How often the queue is polled when nobody wakes the worker (retries
/// becoming due, jobs of crashed processes).
const POLL: Duration = Duration::from_secs(5);

/// The wait before attempt `attempts + 1`: 30 s doubling to at most 12
/// hours, ±25 % jitter so that retries to one server spread out.
pub fn backoff_millis(attempts: i32) -> i64 {
    let base: i64 = 30_000;
    let exp = attempts.clamp(0, 20) as u32;
    let wait = base.saturating_mul(1_i64 << exp).min(12 * 3600 * 1000);
    let jitter = rand::thread_rng().gen_range(-wait / 4..=wait / 4);
    wait + jitter
}

/// What happened to one attempt.
enum Outcome {
    Delivered(u16),
    /// Not attempted: failed at once, for this reason.
    Skipped(&'static str),
    Retry(Option<u16>, String),
    GiveUp(Option<u16>, String),
}

fn classify(result: Result<u16, FetchError>) -> Outcome {
    match result {
        Ok(status) if (200..300).contains(&status) => Outcome::Delivered(status),
        Ok(status @ (408 | 429)) => Outcome::Retry(Some(status), format!("HTTP {status}")),
        Ok(status) if status >= 500 => Outcome::Retry(Some(status), format!("HTTP {status}")),
        Ok(status) => Outcome::GiveUp(Some(status), format!("HTTP {status}")),
        Err(FetchError::Gone) => Outcome::GiveUp(Some(410), "gone".to_owned()),
        Err(FetchError::NotFound) => Outcome::GiveUp(Some(404), "not found".to_owned()),
        Err(error @ FetchError::Blocked(_)) => Outcome::GiveUp(None, error.to_string()),
        Err(FetchError::Status(status)) if status >= 500 || status == 429 || status == 408 => {
            Outcome::Retry(Some(status), format!("HTTP {status}"))
        }
        Err(FetchError::Status(status)) => Outcome::GiveUp(Some(status), format!("HTTP {status}")),
        Err(error) => Outcome::Retry(None, error.to_string()),
    }
}

/// Deliver one claimed job.
async fn deliver(state: &ApubState, job: &Job) -> Outcome {
    let inbox = match Url::parse(&job.inbox_url) {
        Ok(url) => url,
        Err(_) => return Outcome::GiveUp(None, "invalid inbox URL".to_owned()),
    };
    let key = match state
        .signing_keys
        .for_account(&state.db, job.actor_account_id)
        .await
    {
        Ok(key) => key,
        Err(error) => return Outcome::GiveUp(None, error.to_string()),
    };
    classify(crate::knock::post(state, &inbox, job.body.as_bytes(), key).await)
}

/// Requests in flight to one server at a time.
const PER_HOST: usize = 4;
/// Consecutive failures of a server before its circuit opens.
const CIRCUIT_AFTER: i32 = 5;
/// The longest a circuit stays open before a server is tried again.
const MAX_CIRCUIT_MILLIS: i64 = 3600 * 1000;
/// A server failing this long is marked unavailable…
const UNAVAILABLE_AFTER_MILLIS: i64 = 7 * 24 * 3600 * 1000;
/// …and then probed this often.
const PROBE_EVERY_MILLIS: i64 = 6 * 3600 * 1000;

/// How long a circuit stays open after `failures` consecutive failures:
/// a minute, doubling, at most an hour.
pub fn circuit_millis(failures: i32) -> i64 {
    let over = (failures - CIRCUIT_AFTER).clamp(0, 20) as u32;
    (60_000_i64 << over).min(MAX_CIRCUIT_MILLIS)
}

/// Jobs a worker holds at once: requests in flight, and jobs waiting for
/// their server's turn.
const MAX_HELD: usize = 128;
/// Room a claim waits for (unless fewer jobs than this are held).
const CLAIM_AT: usize = 32;
/// Outcomes are recorded together, in one transaction, once this many
/// are in…
const RECORD_AT: usize = 64;
/// …or once the oldest has waited this long.
const RECORD_AFTER: Duration = Duration::from_millis(5);
/// How often parked jobs left without a pending predecessor are looked
/// for ([`deliveries::unpark_orphans`]).
const SWEEP_EVERY_MILLIS: i64 = 10_000;
/// When the last sweep ran (Unix milliseconds), process-wide.
static LAST_SWEEP: AtomicI64 = AtomicI64::new(0);
/// Whether a process-wide chore last done at `last` is due again at `now`
/// (every `every` milliseconds); the one caller that finds it due records
/// `now`, so that concurrent pipelines do it once.
fn turn_came(last: &AtomicI64, every: i64, now: i64) -> bool {
    let then = last.load(Ordering::Relaxed);
    now - then >= every
        && last
            .compare_exchange(then, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// How often, while claims come back full, the queue's planner statistics
/// are checked.
const STATISTICS_CHECK_EVERY_MILLIS: i64 = 5_000;
/// When they were last checked (Unix milliseconds), process-wide.
static LAST_STATISTICS_CHECK: AtomicI64 = AtomicI64::new(0);

/// Claim and deliver due jobs until none is due. Returns how many jobs were
/// attempted. Tests call this to drain the queue deterministically.
pub async fn run_due(state: &ApubState, owner: &str) -> Result<usize, perch_db::Error> {
    Pipeline::new(state, owner).run(None).await
}

/// A delivery task's end, as [`JoinSet::join_next_with_id`] gives it.
type Joined = Result<(tokio::task::Id, (Job, Outcome)), tokio::task::JoinError>;

/// One server's share of the held jobs.
#[derive(Default)]
struct HostSlot {
    running: usize,
    /// Claimed, waiting for one of the server's [`PER_HOST`] turns, with
    /// when they were claimed.
    waiting: VecDeque<(Job, std::time::Instant)>,
}

/// The worker's jobs: claimed as room frees up (never more than
/// [`PER_HOST`] running per server, and no claim for a server already at
/// its limit, so a slow server holds a few jobs and never the worker),
/// sent concurrently, and their outcomes recorded in batches.
struct Pipeline<'a> {
    state: Arc<ApubState>,
    owner: &'a str,
    hosts: HashMap<String, HostSlot>,
    held: usize,
    tasks: JoinSet<(Job, Outcome)>,
    /// The host of each running task, for a task that panicked.
    task_hosts: HashMap<tokio::task::Id, String>,
    /// Outcomes not yet recorded, and when the first of them came.
    done: Vec<(Job, Outcome)>,
    done_since: Option<tokio::time::Instant>,
    attempted: usize,
}

impl<'a> Pipeline<'a> {
    fn new(state: &ApubState, owner: &'a str) -> Pipeline<'a> {
        Pipeline {
            state: Arc::new(state.clone()),
            owner,
            hosts: HashMap::new(),
            held: 0,
            tasks: JoinSet::new(),
            task_hosts: HashMap::new(),
            done: Vec::new(),
            done_since: None,
            attempted: 0,
        }
    }

    /// Runs until nothing is due, nothing is held and every outcome is
    /// recorded; or, once `stop` is cancelled, until what is running ends
    /// (what waits is given back).
    async fn run(mut self, stop: Option<&CancellationToken>) -> Result<usize, perch_db::Error> {
        let mut claimable = true;
        let mut stopping = false;
        loop {
            self.sweep_now_and_then().await?;
            // Claims are for a batch's worth of room, or for whatever there is
            // room for when little is held.
            while claimable
                && !stopping
                && (MAX_HELD - self.held >= CLAIM_AT || self.held < CLAIM_AT)
            {
                claimable = self.claim().await?;
            }
            if self.held == 0 && self.done.is_empty() {
                return Ok(self.attempted);
            }
            let record_by = self.done_since.map(|since| since + RECORD_AFTER);
            let never = std::future::pending::<()>();
            tokio::select! {
                biased;
                finished = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    self.finished(finished);
                }
                () = async { if let Some(stop) = stop { stop.cancelled().await } else { never.await } }, if !stopping => {
                    stopping = true;
                    self.give_back_waiting().await?;
                }
                () = self.state.delivery_wake.notified(), if !stopping => claimable = true,
                () = sleep_until_or_never(record_by) => {}
                () = tokio::time::sleep(POLL) => claimable = !stopping,
            }
            while let Some(finished) = self.tasks.try_join_next_with_id() {
                self.finished(Some(finished));
            }
            let due = record_by.is_some_and(|at| tokio::time::Instant::now() >= at);
            if !self.done.is_empty() && (self.done.len() >= RECORD_AT || due || self.held == 0) {
                self.record_done().await?;
                // Finished jobs unpark the next jobs about their objects.
                claimable = !stopping;
            }
        }
    }

    /// Claims what there is room for; returns whether more may be due.
    async fn claim(&mut self) -> Result<bool, perch_db::Error> {
        let room = (MAX_HELD - self.held).min(BATCH as usize);
        let busy: Vec<String> = self
            .hosts
            .iter()
            .filter(|(_, slot)| slot.running + slot.waiting.len() >= PER_HOST)
            .map(|(host, _)| host.clone())
            .collect();
        let lease = self.state.config.delivery_lease_millis;
        let now = now_millis();
        let started = std::time::Instant::now();
        let jobs = deliveries::claim(
            &self.state.db,
            self.owner,
            now,
            now + lease,
            room as i64,
            &busy,
            PER_HOST as i64,
        )
        .await?;
        metrics::histogram!("perch_delivery_claim_seconds").record(started.elapsed().as_secs_f64());
        let more = jobs.len() == room;
        if more {
            self.refresh_statistics_now_and_then().await?;
        }
        self.attempted += jobs.len();
        for job in jobs {
            if job.inbox_gone {
                // Settled at once: never held.
                self.done_now(
                    job,
                    Outcome::Skipped("the inbox is gone (410 or 404 before)"),
                );
                continue;
            }
            self.held += 1;
            let slot = self.hosts.entry(job.host.clone()).or_default();
            if slot.running < PER_HOST {
                slot.running += 1;
                self.start(job);
            } else {
                slot.waiting.push_back((job, std::time::Instant::now()));
            }
        }
        Ok(more)
    }

    fn start(&mut self, job: Job) {
        let state = self.state.clone();
        let host = job.host.clone();
        let handle = self.tasks.spawn(async move {
            let started = std::time::Instant::now();
            let outcome = deliver(&state, &job).await;
            metrics::histogram!("perch_delivery_request_seconds")
                .record(started.elapsed().as_secs_f64());
            (job, outcome)
        });
        self.task_hosts.insert(handle.id(), host);
    }

    fn done_now(&mut self, job: Job, outcome: Outcome) {
        self.done.push((job, outcome));
        self.done_since
            .get_or_insert_with(tokio::time::Instant::now);
    }

    /// A request ended: its server's next waiting job may start.
    fn finished(&mut self, finished: Option<Joined>) {
        let (id, host, result) = match finished {
            None => return,
            Some(Ok((id, (job, outcome)))) => (id, job.host.clone(), Some((job, outcome))),
            Some(Err(error)) => {
                // The job stays leased and is attempted again after its
                // lease.
                tracing::error!(%error, "a delivery task failed");
                let id = error.id();
                let host = self.task_hosts.get(&id).cloned().unwrap_or_default();
                (id, host, None)
            }
        };
        self.task_hosts.remove(&id);
        self.held = self.held.saturating_sub(1);
        if let Some((job, outcome)) = result {
            self.done_now(job, outcome);
        }
        let next = match self.hosts.get_mut(&host) {
            Some(slot) => {
                slot.running = slot.running.saturating_sub(1);
                let next = slot.waiting.pop_front();
                if next.is_some() {
                    slot.running += 1;
                } else if slot.running == 0 {
                    self.hosts.remove(&host);
                }
                next
            }
            None => None,
        };
        if let Some((job, claimed)) = next {
            // Waiting for a turn may have eaten into the lease: the renewal
            // goes with the outcome, so a job that waited long is started
            // only once its lease is renewed.
            let lease = self.state.config.delivery_lease_millis;
            if claimed.elapsed().as_millis() as i64 > lease / 4 {
                let state = self.state.clone();
                let owner = self.owner.to_owned();
                let host = job.host.clone();
                let handle = self.tasks.spawn(async move {
                    if let Err(error) =
                        deliveries::renew_lease(&state.db, job.id, &owner, now_millis() + lease)
                            .await
                    {
                        return (
                            job,
                            Outcome::Retry(None, format!("renewing the lease: {error}")),
                        );
                    }
                    let started = std::time::Instant::now();
                    let outcome = deliver(&state, &job).await;
                    metrics::histogram!("perch_delivery_request_seconds")
                        .record(started.elapsed().as_secs_f64());
                    (job, outcome)
                });
                self.task_hosts.insert(handle.id(), host);
            } else {
                self.start(job);
            }
        }
    }

    /// Stopping: jobs not started go back to the queue.
    async fn give_back_waiting(&mut self) -> Result<(), perch_db::Error> {
        let mut ids = Vec::new();
        for slot in self.hosts.values_mut() {
            ids.extend(slot.waiting.drain(..).map(|(job, _)| job.id));
        }
        self.held = self.held.saturating_sub(ids.len());
        deliveries::release(&self.state.db, self.owner, &ids).await
    }

    /// Records the outcomes gathered: deliveries in one transaction, each
    /// failure on its own (they are few, and each one's retry, circuit and
    /// gone inbox are decided apart).
    async fn record_done(&mut self) -> Result<(), perch_db::Error> {
        self.done_since = None;
        let done = std::mem::take(&mut self.done);
        let now = now_millis();
        let mut delivered = Vec::new();
        let mut hosts = Vec::new();
        for (job, outcome) in done {
            match outcome {
                Outcome::Delivered(status) => {
                    metrics::histogram!("perch_delivery_latency_seconds")
                        .record((now - job.created_at).max(0) as f64 / 1000.0);
                    delivered.push((job.id, i32::from(status)));
                    hosts.push(job.host);
                }
                Outcome::Skipped(reason) => {
                    metrics::counter!("perch_delivery_failures", "host" => job.host.clone(), "reason" => "gone")
                        .increment(1);
                    deliveries::mark_failed(
                        &self.state.db,
                        job.id,
                        self.owner,
                        None,
                        reason,
                        None,
                        now,
                    )
                    .await?;
                }
                outcome => record(&self.state, self.owner, &job, outcome).await?,
            }
        }
        hosts.sort_unstable();
        hosts.dedup();
        deliveries::mark_all_delivered(&self.state.db, self.owner, &delivered, &hosts, now).await?;
        metrics::counter!("perch_deliveries", "outcome" => "delivered")
            .increment(delivered.len() as u64);
        Ok(())
    }

    /// While claims come back full, now and then (process-wide) let the
    /// database refresh its statistics of the queue if they are stale
    /// ([`deliveries::refresh_statistics_if_stale`]).
    async fn refresh_statistics_now_and_then(&self) -> Result<(), perch_db::Error> {
        if !turn_came(
            &LAST_STATISTICS_CHECK,
            STATISTICS_CHECK_EVERY_MILLIS,
            now_millis(),
        ) {
            return Ok(());
        }
        if deliveries::refresh_statistics_if_stale(&self.state.db).await? {
            tracing::debug!("refreshed the delivery queue's planner statistics");
            metrics::counter!("perch_delivery_statistics_refreshed").increment(1);
        }
        Ok(())
    }

    async fn sweep_now_and_then(&self) -> Result<(), perch_db::Error> {
        let now = now_millis();
        if !turn_came(&LAST_SWEEP, SWEEP_EVERY_MILLIS, now) {
            return Ok(());
        }
        let unparked = deliveries::unpark_orphans(&self.state.db, now).await?;
        if unparked > 0 {
            tracing::info!(
                unparked,
                "unparked delivery jobs left without a predecessor"
            );
            metrics::counter!("perch_delivery_unparked_orphans").increment(unparked);
        }
        Ok(())
    }
}

async fn sleep_until_or_never(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Store what happened to one attempt, and what it says of the server.
async fn record(
    state: &ApubState,
    owner: &str,
    job: &Job,
    outcome: Outcome,
) -> Result<(), perch_db::Error> {
    let db = &state.db;
    let now = now_millis();
    let host = job.host.clone();
    if !matches!(outcome, Outcome::Delivered(_)) {
        // The next activity from anyone must check its standing again.
        state.recently_heard.forget_all();
    }
    match outcome {
        Outcome::Delivered(status) => {
            deliveries::mark_delivered(db, job.id, owner, i32::from(status), now).await?;
            deliveries::host_succeeded(db, &job.host, now).await?;
            metrics::counter!("perch_deliveries", "outcome" => "delivered").increment(1);
            metrics::histogram!("perch_delivery_latency_seconds")
                .record((now - job.created_at).max(0) as f64 / 1000.0);
        }
        Outcome::Retry(status, error) => {
            let server = deliveries::host_failed(db, &job.host, now).await?;
            if server.consecutive_failures >= CIRCUIT_AFTER {
                let failing_for = now - server.failing_since.unwrap_or(now);
                let (until, unavailable) = if failing_for >= UNAVAILABLE_AFTER_MILLIS {
                    (now + PROBE_EVERY_MILLIS, Some(now))
                } else {
                    (now + circuit_millis(server.consecutive_failures), None)
                };
                tracing::warn!(%host, failures = server.consecutive_failures, "circuit opened");
                deliveries::open_circuit(db, &job.host, until, unavailable).await?;
            }
            metrics::counter!("perch_delivery_failures", "host" => host, "reason" => "retry")
                .increment(1);
            if job.attempts + 1 < MAX_ATTEMPTS {
                let retry_at = now + backoff_millis(job.attempts);
                tracing::info!(inbox = %job.inbox_url, %error, "delivery failed; will retry");
                let status = status.map(i32::from);
                deliveries::mark_failed(db, job.id, owner, status, &error, Some(retry_at), now)
                    .await?;
                metrics::counter!("perch_deliveries", "outcome" => "retry").increment(1);
            } else {
                tracing::warn!(inbox = %job.inbox_url, %error, "delivery given up");
                let status = status.map(i32::from);
                deliveries::mark_failed(db, job.id, owner, status, &error, None, now).await?;
                metrics::counter!("perch_deliveries", "outcome" => "failed").increment(1);
            }
        }
        Outcome::Skipped(reason) => {
            metrics::counter!("perch_delivery_failures", "host" => host, "reason" => "gone")
                .increment(1);
            deliveries::mark_failed(db, job.id, owner, None, reason, None, now).await?;
        }
        Outcome::GiveUp(status, error) => {
            // The server answered: it is up, whatever it thinks of this.
            deliveries::host_succeeded(db, &job.host, now).await?;
            if matches!(status, Some(404 | 410)) {
                deliveries::mark_inbox_gone(db, &job.inbox_url, now).await?;
            }
            tracing::warn!(inbox = %job.inbox_url, %error, "delivery refused; given up");
            let reason = if matches!(status, Some(404 | 410)) {
                "gone"
            } else {
                "refused"
            };
            metrics::counter!("perch_delivery_failures", "host" => host, "reason" => reason)
                .increment(1);
            metrics::counter!("perch_deliveries", "outcome" => "failed").increment(1);
            let status = status.map(i32::from);
            deliveries::mark_failed(db, job.id, owner, status, &error, None, now).await?;
        }
    }
    Ok(())
}

/// The background worker: runs due jobs whenever woken (a new job was
/// enqueued) or every few seconds, until `stop`; then lets the requests
/// in flight end and records them.
pub async fn worker(state: ApubState, owner: String, stop: CancellationToken) {
    let wake: Arc<tokio::sync::Notify> = state.delivery_wake.clone();
    loop {
        if let Err(error) = Pipeline::new(&state, &owner).run(Some(&stop)).await {
            tracing::error!(%error, "delivery worker: database error");
        }
        if stop.is_cancelled() {
            return;
        }
        if let Ok(pending) = deliveries::pending_count(&state.db).await {
            metrics::gauge!("perch_delivery_queue_depth").set(pending as f64);
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chore_comes_round_once_per_period() {
        let last = AtomicI64::new(0);
        assert!(turn_came(&last, 1_000, 5_000), "never done: due");
        assert!(!turn_came(&last, 1_000, 5_000), "taken by the first caller");
        assert!(!turn_came(&last, 1_000, 5_999));
        assert!(turn_came(&last, 1_000, 6_000));
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_bounded() {
        for attempts in 0..MAX_ATTEMPTS {
            let wait = backoff_millis(attempts);
            let base = (30_000_i64 << attempts.min(20)).min(12 * 3600 * 1000);
            assert!(
                wait >= base * 3 / 4 && wait <= base * 5 / 4,
                "{attempts}: {wait}"
            );
        }
        let total: i64 = (0..MAX_ATTEMPTS)
            .map(|a| (30_000_i64 << a).min(12 * 3600 * 1000))
            .sum();
        assert!(
            total > 3 * 24 * 3600 * 1000,
            "retries span days, not minutes: {total}"
        );
    }

    #[test]
    fn circuits_open_for_a_minute_doubling_to_an_hour() {
        assert_eq!(circuit_millis(CIRCUIT_AFTER), 60_000);
        assert_eq!(circuit_millis(CIRCUIT_AFTER + 1), 120_000);
        assert_eq!(circuit_millis(CIRCUIT_AFTER + 20), MAX_CIRCUIT_MILLIS);
        assert_eq!(circuit_millis(0), 60_000);
    }

    #[test]
    fn outcomes() {
        assert!(matches!(classify(Ok(202)), Outcome::Delivered(202)));
        assert!(matches!(classify(Ok(503)), Outcome::Retry(Some(503), _)));
        assert!(matches!(classify(Ok(429)), Outcome::Retry(Some(429), _)));
        assert!(matches!(classify(Ok(400)), Outcome::GiveUp(Some(400), _)));
        assert!(matches!(
            classify(Err(FetchError::Gone)),
            Outcome::GiveUp(Some(410), _)
        ));
        assert!(matches!(
            classify(Err(FetchError::NotFound)),
            Outcome::GiveUp(Some(404), _)
        ));
    }
}
