//! Time-sortable 64-bit identifiers (Snowflake-style).
//!
//! Layout, most significant bit first:
//!
//! ```text
//! 0 | 41 bits: milliseconds since 2026-01-01T00:00:00Z | 10 bits: node | 12 bits: sequence
//! ```
//!
//! Ids sort by creation time, so timelines can page with `max_id`/`min_id` over
//! the primary key. The node number makes ids unique across processes sharing
//! one database: each process leases a node number from the database at
//! start-up (see `perch_db::nodes`) and the generator never reuses a
//! `(millisecond, node, sequence)` triple. When the clock steps backwards or
//! more than 4096 ids are asked for within one millisecond, the generator
//! borrows the next millisecond instead of waiting; the clock catches up.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use crate::time::{UnixMillis, now_millis};

/// 2026-01-01T00:00:00Z in Unix milliseconds. 41 bits last until 2095.
pub const EPOCH_MILLIS: UnixMillis = 1_767_225_600_000;

const NODE_BITS: u32 = 10;
const SEQUENCE_BITS: u32 = 12;
const TIMESTAMP_SHIFT: u32 = NODE_BITS + SEQUENCE_BITS;
/// Number of distinct node numbers (0..MAX_NODES).
pub const MAX_NODES: u16 = 1 << NODE_BITS;
const MAX_SEQUENCE: u16 = (1 << SEQUENCE_BITS) - 1;

/// A time-sortable identifier. Shown as a decimal string in API JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(i64);

impl Id {
    pub const fn from_i64(value: i64) -> Self {
        Self(value)
    }

    pub const fn as_i64(self) -> i64 {
        self.0
    }

    /// The instant (Unix milliseconds) encoded in the id.
    pub const fn timestamp_millis(self) -> UnixMillis {
        (self.0 >> TIMESTAMP_SHIFT) + EPOCH_MILLIS
    }

    /// The smallest id that could have been generated at `millis`; useful as a
    /// pagination bound ("everything since this instant").
    pub fn lower_bound_at(millis: UnixMillis) -> Self {
        Self((millis - EPOCH_MILLIS).max(0) << TIMESTAMP_SHIFT)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Id {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("node number {0} is out of range (0..{MAX_NODES})")]
pub struct NodeOutOfRange(pub u16);

#[derive(Debug)]
struct State {
    node: u16,
    last_millis: i64,
    sequence: u16,
}

/// Generates unique, increasing ids for one process.
#[derive(Debug)]
pub struct IdGenerator {
    state: Mutex<State>,
}

impl IdGenerator {
    pub fn new(node: u16) -> Result<Self, NodeOutOfRange> {
        if node >= MAX_NODES {
            return Err(NodeOutOfRange(node));
        }
        Ok(Self {
            state: Mutex::new(State {
                node,
                last_millis: -1,
                sequence: 0,
            }),
        })
    }

    /// The node number currently in use.
    pub fn node(&self) -> u16 {
        self.lock().node
    }

    /// Switch to another node number, e.g. after the lease on the old one was
    /// lost. Ids stay increasing.
    pub fn set_node(&self, node: u16) -> Result<(), NodeOutOfRange> {
        if node >= MAX_NODES {
            return Err(NodeOutOfRange(node));
        }
        let mut state = self.lock();
        state.node = node;
        Ok(())
    }

    pub fn next_id(&self) -> Id {
        self.next_id_at(now_millis())
    }

    fn next_id_at(&self, now: UnixMillis) -> Id {
        let mut state = self.lock();
        let millis = (now - EPOCH_MILLIS).max(0);
        if millis > state.last_millis {
            state.last_millis = millis;
            state.sequence = 0;
        } else if state.sequence < MAX_SEQUENCE {
            state.sequence += 1;
        } else {
            state.last_millis += 1;
            state.sequence = 0;
        }
        Id((state.last_millis << TIMESTAMP_SHIFT)
            | (i64::from(state.node) << SEQUENCE_BITS)
            | i64::from(state.sequence))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two integers; a panic while holding the lock cannot
        // leave it inconsistent, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_increase_and_encode_their_time() {
        let generator = IdGenerator::new(7).expect("node in range");
        let t = EPOCH_MILLIS + 1_000_000;
        let a = generator.next_id_at(t);
        let b = generator.next_id_at(t);
        let c = generator.next_id_at(t + 1);
        assert!(a < b && b < c);
        assert_eq!(a.timestamp_millis(), t);
        assert_eq!(c.timestamp_millis(), t + 1);
        assert!(Id::lower_bound_at(t) <= a);
        assert!(Id::lower_bound_at(t + 1) > b);
    }

    #[test]
    fn sequence_overflow_borrows_the_next_millisecond() {
        let generator = IdGenerator::new(1).expect("node in range");
        let t = EPOCH_MILLIS + 5;
        let ids: Vec<Id> = (0..5000).map(|_| generator.next_id_at(t)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ids[4095].timestamp_millis(), t);
        assert_eq!(ids[4096].timestamp_millis(), t + 1);
    }

    #[test]
    fn clock_going_backwards_keeps_ids_increasing() {
        let generator = IdGenerator::new(1).expect("node in range");
        let a = generator.next_id_at(EPOCH_MILLIS + 100);
        let b = generator.next_id_at(EPOCH_MILLIS + 50);
        assert!(b > a);
    }

    #[test]
    fn different_nodes_never_collide_in_the_same_millisecond() {
        let t = EPOCH_MILLIS + 42;
        let mut seen = HashSet::new();
        for node in [0, 1, MAX_NODES - 1] {
            let generator = IdGenerator::new(node).expect("node in range");
            for _ in 0..100 {
                assert!(seen.insert(generator.next_id_at(t)));
            }
        }
    }

    #[test]
    fn node_numbers_are_bounded() {
        assert_eq!(
            IdGenerator::new(MAX_NODES).err(),
            Some(NodeOutOfRange(MAX_NODES))
        );
    }

    #[test]
    fn ids_are_positive_for_decades() {
        let generator = IdGenerator::new(MAX_NODES - 1).expect("node in range");
        let sixty_nine_years = 69 * 365 * 24 * 3600 * 1000;
        assert!(
            generator
                .next_id_at(EPOCH_MILLIS + sixty_nine_years)
                .as_i64()
                > 0
        );
    }

    #[test]
    fn ids_round_trip_through_strings() {
        let id = Id::from_i64(1234567890123);
        assert_eq!(id.to_string().parse::<Id>().expect("parses"), id);
        assert!("12a".parse::<Id>().is_err());
    }
}
