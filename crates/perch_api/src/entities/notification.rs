//! Mastodon's Notification and Marker entities.

use serde::Serialize;

use super::account::Account;
use super::iso8601_millis;
use super::status::Status;
use crate::reports::Report;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The group it belongs to (`ungrouped-<id>` when none), as
    /// `/api/v2/notifications` groups it.
    pub group_key: String,
    pub created_at: String,
    pub account: Account,
    pub status: Option<Status>,
    /// The report of an `admin.report` notification (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

pub fn notification(
    id: i64,
    kind: &str,
    group_key: &str,
    created_at: i64,
    account: Account,
    status: Option<Status>,
    report: Option<Report>,
) -> Notification {
    Notification {
        id: id.to_string(),
        kind: kind.to_owned(),
        group_key: group_key.to_owned(),
        created_at: iso8601_millis(created_at),
        account,
        status,
        report,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Marker {
    pub last_read_id: String,
    pub version: i64,
    pub updated_at: String,
}

pub fn marker(last_read_id: i64, version: i64, updated_at: i64) -> Marker {
    Marker {
        last_read_id: last_read_id.to_string(),
        version,
        updated_at: iso8601_millis(updated_at),
    }
}
