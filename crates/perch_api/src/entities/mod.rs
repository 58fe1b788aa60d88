//! The JSON entities of the Mastodon client API, as plain `Serialize` types,
//! and the pure functions that build them from storage rows and settings.
//!
//! Handlers fetch rows through perch_db, call a builder here, and return the
//! result as JSON; nothing in this module does I/O, so every mapping is
//! unit-tested on its own. Entities derive `Serialize` only: clients send
//! parameters, never entities, so there is nothing to deserialize.
//!
//! Mastodon clients are strict about shapes: ids are strings, datetimes are
//! ISO 8601 UTC with milliseconds, and every documented field is present
//! (`null` when empty). The helpers below keep the datetime formats in one
//! place.

pub mod account;
pub mod chat;
pub mod filter;
pub mod instance;
pub mod list;
pub mod media;
pub mod notification;
pub mod notification_group;
pub mod poll;
pub mod status;

use chrono::{DateTime, SecondsFormat};
use serde::Serialize;

pub use account::{
    Account, AccountRole, CredentialAccount, Field, Role, Source, SourceInput, account_from_row,
    credential_account,
};
pub use instance::{
    InstanceInfo, InstanceV1, InstanceV2, MediaLimits, PollLimits, instance_v1, instance_v2,
};

/// `2026-11-23T19:39:25.000Z`: always milliseconds, always `Z`, as Rails
/// renders times and as client libraries parse them.
///
/// Instants outside chrono's range (hundreds of thousands of years away)
/// cannot come from our own clocks; they render as the Unix epoch rather
/// than failing a whole response.
pub fn iso8601_millis(unix_millis: i64) -> String {
    DateTime::from_timestamp_millis(unix_millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `2026-11-23`: the UTC calendar day, the form Mastodon uses for
/// `last_status_at` so that profiles do not reveal exact posting times.
pub fn iso_date(unix_millis: i64) -> String {
    DateTime::from_timestamp_millis(unix_millis)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// Mastodon's CustomEmoji, shared by accounts, statuses and the instance's
/// emoji list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CustomEmoji {
    pub shortcode: String,
    pub url: String,
    pub static_url: String,
    pub visible_in_picker: bool,
    pub category: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// Every key of `value` as a dotted path (`configuration.urls.streaming`),
    /// descending into objects but not arrays, sorted: one comparison then
    /// checks a document's whole shape.
    pub(super) fn key_paths(value: &Value) -> Vec<String> {
        fn walk(prefix: &str, value: &Value, out: &mut Vec<String>) {
            let Some(object) = value.as_object() else {
                return;
            };
            for (key, child) in object {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                walk(&path, child, out);
                out.push(path);
            }
        }
        let mut out = Vec::new();
        walk("", value, &mut out);
        out.sort();
        out
    }

    /// A whitespace-separated list of paths, sorted, for comparing with
    /// [`key_paths`].
    pub(super) fn paths(list: &str) -> Vec<String> {
        let mut out: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
        out.sort();
        out
    }

    #[test]
    fn key_paths_descend_into_objects_only() {
        let value = serde_json::json!({"b": {"c": 1, "d": [{"e": 2}]}, "a": null});
        assert_eq!(key_paths(&value), paths("a b b.c b.d"));
    }

    #[test]
    fn datetime_always_has_millis_and_z() {
        assert_eq!(
            iso8601_millis(1_795_462_765_000),
            "2026-11-23T19:39:25.000Z"
        );
        assert_eq!(
            iso8601_millis(1_795_462_765_123),
            "2026-11-23T19:39:25.123Z"
        );
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn datetime_before_epoch_is_still_utc() {
        assert_eq!(iso8601_millis(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn out_of_range_instant_falls_back_to_epoch() {
        assert_eq!(iso8601_millis(i64::MAX), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(i64::MIN), "1970-01-01");
    }

    #[test]
    fn date_is_the_utc_day() {
        assert_eq!(iso_date(1_795_462_765_000), "2026-11-23");
        // One millisecond before midnight UTC is still the previous day.
        assert_eq!(iso_date(1_795_478_399_999), "2026-11-23");
        assert_eq!(iso_date(1_795_478_400_000), "2026-11-24");
    }
}
