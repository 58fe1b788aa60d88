//! A keyed rate limiter: how often each key (a client address, an account,
//! a remote key id) may do something.
//!
//! [`RateLimiter`] is a keyed GCRA (generic cell rate algorithm, equivalent to
//! a token bucket): each key may make `limit` requests at once, and regains
//! one every `period / limit`. The only state per key is one instant, the
//! "theoretical arrival time"; a key whose instant has passed is
//! indistinguishable from a new key and can be forgotten.
//!
//! State is in memory and per process: with several processes behind a load
//! balancer each one counts on its own, so the effective limit is multiplied
//! by the number of processes. It is also lost on restart. Both are acceptable
//! for slowing down guessing and floods; neither makes it a quota.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a refused client should wait before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// The wait as a `Duration`.
    pub fn duration(&self) -> Duration {
        self.0
    }

    /// The wait in whole seconds for the `Retry-After` header: rounded up, so
    /// a client that obeys it is not refused again, and at least 1, because
    /// `Retry-After: 0` invites an immediate retry.
    pub fn seconds(&self) -> u64 {
        let whole = self.0.as_secs();
        let rounded = if self.0.subsec_nanos() > 0 {
            whole.saturating_add(1)
        } else {
            whole
        };
        rounded.max(1)
    }
}

/// Keys longer than this are cut, so that an attacker-chosen key (an account
/// name in a request body) cannot make one entry arbitrarily large. Real
/// account names and e-mail addresses are far shorter; long keys that share
/// a prefix merely share a budget.
const MAX_KEY_BYTES: usize = 256;
/// Default cap on tracked keys: at roughly 100 bytes per entry, a few MiB.
const DEFAULT_MAX_KEYS: usize = 50_000;
/// The table is swept once it reaches this size; below it, sweeping is not
/// worth the pass over the map.
const MIN_SWEEP_LEN: usize = 1_024;

/// A keyed rate limiter allowing bursts of up to `limit` requests per
/// `period` for each key. Thread-safe; share it behind an `Arc`.
#[derive(Debug)]
pub struct RateLimiter {
    /// `period / limit`: how much later the theoretical arrival time moves
    /// with each allowed request.
    interval: Duration,
    /// How far in the future the theoretical arrival time may be: a full
    /// burst's worth.
    period: Duration,
    max_keys: usize,
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    /// Key → theoretical arrival time. A key whose time has passed has fully
    /// recovered and may be dropped.
    entries: HashMap<String, Instant>,
    /// Sweep when a new key would make the map reach this size. It doubles
    /// with the live entries after each sweep, so that sweeping costs O(1)
    /// per insertion on average.
    sweep_at_len: usize,
    /// When a sweep left the table full: the earliest instant at which an
    /// entry can have recovered. Until then new keys are refused without
    /// another pass over the map.
    full_until: Option<Instant>,
}

impl RateLimiter {
    /// A limiter allowing `limit` requests per `period` per key, all of them
    /// at once if the key has been quiet. A `limit` of 0 is treated as 1.
    pub fn new(limit: u32, period: Duration) -> Self {
        Self {
            interval: period / limit.max(1),
            period,
            max_keys: DEFAULT_MAX_KEYS,
            table: Mutex::new(Table {
                entries: HashMap::new(),
                sweep_at_len: MIN_SWEEP_LEN.min(DEFAULT_MAX_KEYS),
                full_until: None,
            }),
        }
    }

    /// Cap the number of keys tracked at once (at least 1). When the cap is
    /// reached and no key has recovered, new keys are refused until one has:
    /// this trades availability under a flood of distinct keys for bounded
    /// memory. Keys already tracked are unaffected.
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        let table = self.table.get_mut().unwrap_or_else(PoisonError::into_inner);
        table.sweep_at_len = MIN_SWEEP_LEN.min(self.max_keys);
        self
    }

    /// Count one request for `key` at `now`. On refusal nothing is counted,
    /// so a client that keeps hammering is not locked out for longer.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), RetryAfter> {
        let key = truncate_key(key);
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(arrival) = table.entries.get_mut(key) {
            *arrival = self.admit(*arrival, now)?;
            return Ok(());
        }
        let arrival = self.admit(now, now)?;
        self.make_room(&mut table, now)?;
        table.entries.insert(key.to_owned(), arrival);
        Ok(())
    }

    /// The number of keys currently tracked, for metrics and tests.
    pub fn tracked_keys(&self) -> usize {
        let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        table.entries.len()
    }

    /// GCRA: the request is allowed if, after it, the theoretical arrival
    /// time is at most one period ahead of now. Returns the new arrival time.
    fn admit(&self, arrival: Instant, now: Instant) -> Result<Instant, RetryAfter> {
        let next = arrival.max(now) + self.interval;
        let ahead = next.saturating_duration_since(now);
        if ahead > self.period {
            Err(RetryAfter(ahead - self.period))
        } else {
            Ok(next)
        }
    }

    /// Make sure a new key fits, sweeping recovered entries when the table
    /// has grown, or refuse it when the table is full.
    fn make_room(&self, table: &mut Table, now: Instant) -> Result<(), RetryAfter> {
        let len = table.entries.len();
        if len >= table.sweep_at_len {
            let at_cap = len >= self.max_keys;
            if !at_cap || table.full_until.is_none_or(|until| now >= until) {
                self.sweep(table, now);
            }
        }
        if table.entries.len() < self.max_keys {
            return Ok(());
        }
        let wait = table
            .full_until
            .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
        Err(RetryAfter(wait))
    }

    fn sweep(&self, table: &mut Table, now: Instant) {
        let mut earliest: Option<Instant> = None;
        table.entries.retain(|_, arrival| {
            let keep = *arrival > now;
            if keep {
                earliest = Some(earliest.map_or(*arrival, |e| e.min(*arrival)));
            }
            keep
        });
        let len = table.entries.len();
        // Not `clamp`: the cap may be below the minimum sweep length.
        table.sweep_at_len = len.saturating_mul(2).max(MIN_SWEEP_LEN).min(self.max_keys);
        table.full_until = if len >= self.max_keys {
            tracing::warn!(
                keys = len,
                "rate limiter table full; refusing new keys until one recovers"
            );
            earliest
        } else {
            None
        };
    }
}

/// Cut `key` to at most [`MAX_KEY_BYTES`], at a character boundary.
fn truncate_key(key: &str) -> &str {
    if key.len() <= MAX_KEY_BYTES {
        return key;
    }
    let mut end = MAX_KEY_BYTES;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn burst_allowed_then_refused() {
        let limiter = RateLimiter::new(5, MINUTE);
        let now = Instant::now();
        for i in 0..5 {
            assert_eq!(limiter.check("k", now), Ok(()), "request {i}");
        }
        assert!(limiter.check("k", now).is_err());
    }

    #[test]
    fn retry_after_says_when_the_next_request_fits() {
        // One request regained every 12 s.
        let limiter = RateLimiter::new(5, MINUTE);
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check("k", start), Ok(()));
        }
        let later = start + Duration::from_secs(5);
        let refused = limiter.check("k", later).expect_err("burst used up");
        assert_eq!(refused.duration(), Duration::from_secs(7));
        assert_eq!(refused.seconds(), 7);
        // Refused requests are not counted: the wait is unchanged.
        let again = limiter.check("k", later).expect_err("still refused");
        assert_eq!(again.duration(), Duration::from_secs(7));
        // Just before the promised time: still refused; at it: allowed.
        let almost = later + Duration::from_secs(7) - Duration::from_millis(1);
        assert!(limiter.check("k", almost).is_err());
        assert_eq!(limiter.check("k", later + Duration::from_secs(7)), Ok(()));
    }

    #[test]
    fn retry_after_seconds_round_up_to_at_least_one() {
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_secs(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1_001)).seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(300)).seconds(), 300);
    }

    #[test]
    fn recovers_after_time_passes() {
        let limiter = RateLimiter::new(3, MINUTE);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check("k", start), Ok(()));
        }
        assert!(limiter.check("k", start).is_err());
        // One interval regains one request, not more.
        let one = start + Duration::from_secs(20);
        assert_eq!(limiter.check("k", one), Ok(()));
        assert!(limiter.check("k", one).is_err());
        // A full period of quiet regains the whole burst.
        let full = one + MINUTE;
        for _ in 0..3 {
            assert_eq!(limiter.check("k", full), Ok(()));
        }
        assert!(limiter.check("k", full).is_err());
    }

    #[test]
    fn keys_are_independent() {
        let limiter = RateLimiter::new(2, MINUTE);
        let now = Instant::now();
        assert_eq!(limiter.check("a", now), Ok(()));
        assert_eq!(limiter.check("a", now), Ok(()));
        assert!(limiter.check("a", now).is_err());
        assert_eq!(limiter.check("b", now), Ok(()));
        assert_eq!(limiter.check("b", now), Ok(()));
        assert!(limiter.check("b", now).is_err());
    }

    #[test]
    fn zero_limit_is_treated_as_one() {
        let limiter = RateLimiter::new(0, MINUTE);
        let now = Instant::now();
        assert_eq!(limiter.check("k", now), Ok(()));
        assert!(limiter.check("k", now).is_err());
    }

    #[test]
    fn long_keys_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_KEY_BYTES);
        let cut = truncate_key(&long);
        assert!(cut.len() <= MAX_KEY_BYTES);
        assert!(long.starts_with(cut));
        assert_eq!(truncate_key("short"), "short");
    }

    #[test]
    fn recovered_keys_are_swept() {
        let limiter = RateLimiter::new(1, Duration::from_secs(1));
        let start = Instant::now();
        for i in 0..MIN_SWEEP_LEN {
            assert_eq!(limiter.check(&format!("a{i}"), start), Ok(()));
        }
        assert_eq!(limiter.tracked_keys(), MIN_SWEEP_LEN);
        // Every key above has recovered by now; the next new key sweeps.
        let later = start + Duration::from_secs(2);
        assert_eq!(limiter.check("fresh", later), Ok(()));
        assert_eq!(limiter.tracked_keys(), 1);
    }

    #[test]
    fn full_table_refuses_new_keys_instead_of_growing() {
        let limiter = RateLimiter::new(1, Duration::from_secs(10)).with_max_keys(3);
        let start = Instant::now();
        for key in ["a", "b", "c"] {
            assert_eq!(limiter.check(key, start), Ok(()));
        }
        let soon = start + Duration::from_secs(4);
        let refused = limiter.check("d", soon).expect_err("table is full");
        assert_eq!(refused.duration(), Duration::from_secs(6));
        assert_eq!(limiter.tracked_keys(), 3);
        // Tracked keys are still served (and refused) as before.
        assert!(limiter.check("a", soon).is_err());
        // Once the entries have recovered, a new key gets in and the table
        // holds only what is live.
        let later = start + Duration::from_secs(10);
        assert_eq!(limiter.check("d", later), Ok(()));
        assert_eq!(limiter.tracked_keys(), 1);
    }

    #[test]
    fn table_stays_bounded_under_a_flood_of_keys() {
        let limiter = RateLimiter::new(5, MINUTE).with_max_keys(100);
        let start = Instant::now();
        let mut refused = 0;
        for i in 0..10_000u64 {
            let now = start + Duration::from_millis(i);
            if limiter.check(&format!("k{i}"), now).is_err() {
                refused += 1;
            }
            assert!(limiter.tracked_keys() <= 100);
        }
        assert_eq!(refused, 10_000 - 100);
    }
}
