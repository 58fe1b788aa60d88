//! Senders heard from a moment ago.
//!
//! Every verified activity tells the delivery queue that its server is up
//! and its actor's inbox not gone (`deliveries::heard_from`), which costs a
//! database read even when, as almost always, nothing is wrong. A busy
//! sender's activities arrive many a second; this remembers, per process
//! and for [`FRESH`], whose standing was just checked, so the read is made
//! once in that while rather than once per activity. A failed delivery
//! from this process forgets everything, so the next activity checks
//! again; one recorded by another process is cleared at most [`FRESH`]
//! later.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a check holds.
pub const FRESH: Duration = Duration::from_secs(10);
/// Entries kept at most; past this the memory is forgotten at once, which
/// only costs a few more reads.
const MAX_ENTRIES: usize = 16_384;

#[derive(Default)]
pub struct RecentlyHeard {
    checked: Mutex<HashMap<i64, Instant>>,
}

impl RecentlyHeard {
    /// Whether `account_id`'s standing was checked less than [`FRESH`] ago.
    pub fn is_fresh(&self, account_id: i64, now: Instant) -> bool {
        self.checked
            .lock()
            .ok()
            .and_then(|checked| checked.get(&account_id).copied())
            .is_some_and(|at| now.duration_since(at) < FRESH)
    }

    /// Every sender's standing must be checked again.
    pub fn forget_all(&self) {
        if let Ok(mut checked) = self.checked.lock() {
            checked.clear();
        }
    }

    /// `account_id`'s standing was checked (and cleared) at `now`.
    pub fn checked(&self, account_id: i64, now: Instant) {
        if let Ok(mut checked) = self.checked.lock() {
            if checked.len() >= MAX_ENTRIES {
                checked.retain(|_, at| now.duration_since(*at) < FRESH);
                if checked.len() >= MAX_ENTRIES {
                    checked.clear();
                }
            }
            checked.insert(account_id, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_holds_for_a_while() {
        let heard = RecentlyHeard::default();
        let start = Instant::now();
        assert!(!heard.is_fresh(7, start));
        heard.checked(7, start);
        assert!(heard.is_fresh(7, start + Duration::from_secs(1)));
        assert!(!heard.is_fresh(7, start + FRESH));
        assert!(!heard.is_fresh(8, start));
    }

    #[test]
    fn memory_stays_bounded() {
        let heard = RecentlyHeard::default();
        let start = Instant::now();
        for id in 0..(MAX_ENTRIES as i64 * 2) {
            heard.checked(id, start);
        }
        let len = heard.checked.lock().map(|c| c.len()).unwrap_or(usize::MAX);
        assert!(len <= MAX_ENTRIES);
    }
}
