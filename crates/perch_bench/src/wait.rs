//! Awaiting a condition with a deadline: a count polled until it reaches
//! its target, the deadline passes, or it stops moving.

use std::time::{Duration, Instant};

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    Reached,
    /// The count did not move for the stall time.
    Stalled,
    Deadline,
}

/// Polls `count` every `every` until it is at least `target`. Gives up at
/// `deadline`, or when the count has not changed for `stall`. Returns how
/// it ended and the last count.
pub async fn until_count(
    target: u64,
    every: Duration,
    stall: Duration,
    deadline: Instant,
    mut count: impl AsyncFnMut() -> anyhow::Result<u64>,
) -> anyhow::Result<(Ended, u64)> {
    let mut last = None;
    let mut changed = Instant::now();
    loop {
        let now_count = count().await?;
        if now_count >= target {
            return Ok((Ended::Reached, now_count));
        }
        if last != Some(now_count) {
            last = Some(now_count);
            changed = Instant::now();
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok((Ended::Deadline, now_count));
        }
        if now - changed >= stall {
            return Ok((Ended::Stalled, now_count));
        }
        tokio::time::sleep(every.min(deadline - now)).await;
    }
}
