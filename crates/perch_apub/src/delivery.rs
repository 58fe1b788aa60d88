//! The delivery worker: claims due jobs from the persistent queue, signs
//! each request with its author's key at send time, posts it, and records
//! the outcome.
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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use perch_core::time::now_millis;
use perch_db::deliveries::{self, Job};
use rand::Rng;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::ApubState;
use crate::fetch::FetchError;
use crate::signer::ActorSigner;

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
    let signer = ActorSigner { key };
    let result = state
        .fetcher
        .post(
            &inbox,
            "application/activity+json",
            job.body.clone().into_bytes(),
            Some(&signer),
        )
        .await;
    classify(result)
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

/// Claim and deliver due jobs until none is due. Returns how many jobs were
/// attempted. Tests call this to drain the queue deterministically.
pub async fn run_due(state: &ApubState, owner: &str) -> Result<usize, perch_db::Error> {
    let lease = state.config.delivery_lease_millis;
    let mut attempted = 0;
    loop {
        let now = now_millis();
        let jobs = deliveries::claim_due(&state.db, owner, now, now + lease, BATCH).await?;
        if jobs.is_empty() {
            return Ok(attempted);
        }
        attempted += jobs.len();
        let mut inboxes: Vec<String> = jobs.iter().map(|j| j.inbox_url.clone()).collect();
        inboxes.sort();
        inboxes.dedup();
        let gone = deliveries::gone_among(&state.db, &inboxes).await?;
        let (skipped, jobs): (Vec<Job>, Vec<Job>) =
            jobs.into_iter().partition(|j| gone.contains(&j.inbox_url));
        for job in &skipped {
            let reason = "the inbox is gone (410 or 404 before)";
            metrics::counter!("perch_delivery_failures", "host" => job.host.clone(), "reason" => "gone")
                .increment(1);
            deliveries::mark_failed(&state.db, job.id, owner, None, reason, None, now).await?;
        }
        let mut limits: HashMap<&str, Arc<Semaphore>> = HashMap::new();
        for job in &jobs {
            limits
                .entry(job.host.as_str())
                .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST)));
        }
        let outcomes = futures_util::future::join_all(jobs.iter().map(|job| {
            let limit = limits.get(job.host.as_str()).cloned();
            async move {
                let _permit = match &limit {
                    Some(limit) => limit.acquire().await.ok(),
                    None => None,
                };
                // Waiting for a turn may have eaten into the lease.
                deliveries::renew_lease(&state.db, job.id, owner, now_millis() + lease).await?;
                let started = std::time::Instant::now();
                let outcome = deliver(state, job).await;
                metrics::histogram!("perch_delivery_request_seconds")
                    .record(started.elapsed().as_secs_f64());
                Ok::<_, perch_db::Error>(outcome)
            }
        }))
        .await;
        for (job, outcome) in jobs.iter().zip(outcomes) {
            record(state, owner, job, outcome?).await?;
        }
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
/// enqueued) or every few seconds, until `stop`.
pub async fn worker(state: ApubState, owner: String, stop: CancellationToken) {
    let wake: Arc<tokio::sync::Notify> = state.delivery_wake.clone();
    loop {
        if let Err(error) = run_due(&state, &owner).await {
            tracing::error!(%error, "delivery worker: database error");
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
