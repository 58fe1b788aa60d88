//! Wall-clock time as stored: milliseconds since the Unix epoch, UTC.
//!
//! Both database backends store instants as `BIGINT` milliseconds, which keeps
//! the schema portable and comparisons cheap.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type UnixMillis = i64;

/// The current time in milliseconds since the Unix epoch.
pub fn now_millis() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
