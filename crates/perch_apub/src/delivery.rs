//! The delivery worker: claims due jobs from the persistent queue, signs
//! each request with its author's key at send time, posts it, and records
//! the outcome.
//!
//! Outcomes: 2xx delivered; 404 and 410 given up at once (the inbox is
//! gone); other 4xx but 408 and 429 given up (the receiver refuses this
//! activity, and retrying will not change its mind); 408, 429, 5xx and
//! network failures retried with exponential backoff and jitter over about
//! four days, then given up and recorded.

use std::sync::Arc;
use std::time::Duration;

use perch_core::time::now_millis;
use perch_db::deliveries::{self, Job};
use rand::Rng;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::ApubState;
use crate::fetch::FetchError;
use crate::signer::ActorSigner;

/// How long a claimed job is ours before another worker may take it over.
const LEASE_MILLIS: i64 = 5 * 60 * 1000;
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

/// Claim and deliver due jobs until none is due. Returns how many jobs were
/// attempted. Tests call this to drain the queue deterministically.
pub async fn run_due(state: &ApubState, owner: &str) -> Result<usize, perch_db::Error> {
    let mut attempted = 0;
    loop {
        let now = now_millis();
        let jobs = deliveries::claim_due(&state.db, owner, now, now + LEASE_MILLIS, BATCH).await?;
        if jobs.is_empty() {
            return Ok(attempted);
        }
        attempted += jobs.len();
        let outcomes =
            futures_util::future::join_all(jobs.iter().map(|job| deliver(state, job))).await;
        for (job, outcome) in jobs.iter().zip(outcomes) {
            let now = now_millis();
            match outcome {
                Outcome::Delivered(status) => {
                    deliveries::mark_delivered(&state.db, job.id, owner, i32::from(status), now)
                        .await?;
                }
                Outcome::Retry(status, error) if job.attempts + 1 < MAX_ATTEMPTS => {
                    let retry_at = now + backoff_millis(job.attempts);
                    tracing::info!(inbox = %job.inbox_url, %error, "delivery failed; will retry");
                    deliveries::mark_failed(
                        &state.db,
                        job.id,
                        owner,
                        status.map(i32::from),
                        &error,
                        Some(retry_at),
                        now,
                    )
                    .await?;
                }
                Outcome::Retry(status, error) | Outcome::GiveUp(status, error) => {
                    tracing::warn!(inbox = %job.inbox_url, %error, "delivery given up");
                    deliveries::mark_failed(
                        &state.db,
                        job.id,
                        owner,
                        status.map(i32::from),
                        &error,
                        None,
                        now,
                    )
                    .await?;
                }
            }
        }
    }
}

/// The background worker: runs due jobs whenever woken (a new job was
/// enqueued) or every few seconds, until `stop`.
pub async fn worker(state: ApubState, owner: String, stop: CancellationToken) {
    let wake: Arc<tokio::sync::Notify> = state.delivery_wake.clone();
    loop {
        if let Err(error) = run_due(&state, &owner).await {
            tracing::error!(%error, "delivery worker: database error");
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
