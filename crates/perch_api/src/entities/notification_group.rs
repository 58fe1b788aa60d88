//! Mastodon 4.3's grouped notifications (GroupedNotificationsResults,
//! NotificationGroup, PartialAccountWithAvatar), its NotificationPolicy
//! (the v2 form and the v1 one old apps read) and NotificationRequest.

use perch_core::notifications::{NotificationPolicy, PolicyAction};
use perch_db::notification_requests::Summary;
use serde::Serialize;

use super::account::Account;
use super::iso8601_millis;
use super::status::Status;
use crate::reports::Report;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupedNotificationsResults {
    /// Everyone the groups name, each once (with `partial_avatars`, only
    /// the newest account of each group).
    pub accounts: Vec<Account>,
    /// The other accounts the groups name, with `partial_avatars`; empty
    /// otherwise.
    pub partial_accounts: Vec<PartialAccountWithAvatar>,
    /// The statuses the groups are about, each once.
    pub statuses: Vec<Status>,
    pub notification_groups: Vec<NotificationGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NotificationGroup {
    pub group_key: String,
    pub notifications_count: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub most_recent_notification_id: String,
    /// The group's oldest and newest notifications on this page, and when
    /// the newest was made: null outside a page (a single group).
    pub page_min_id: Option<String>,
    pub page_max_id: Option<String>,
    pub latest_page_notification_at: Option<String>,
    pub sample_account_ids: Vec<String>,
    pub status_id: Option<String>,
    pub report: Option<Report>,
    /// Perch severs no relationships and gives no moderation warnings:
    /// always null.
    pub event: Option<serde_json::Value>,
    pub moderation_warning: Option<serde_json::Value>,
}

/// Where a group stands on a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagePosition {
    pub min_id: i64,
    pub max_id: i64,
    pub latest_at: i64,
}

/// What a group is made of, from storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupParts<'a> {
    pub key: &'a str,
    pub kind: &'a str,
    pub count: i64,
    pub most_recent_id: i64,
    pub sample_account_ids: &'a [i64],
    pub status_id: Option<i64>,
    pub page: Option<PagePosition>,
}

pub fn notification_group(parts: &GroupParts<'_>, report: Option<Report>) -> NotificationGroup {
    NotificationGroup {
        group_key: parts.key.to_owned(),
        notifications_count: parts.count,
        kind: parts.kind.to_owned(),
        most_recent_notification_id: parts.most_recent_id.to_string(),
        page_min_id: parts.page.map(|p| p.min_id.to_string()),
        page_max_id: parts.page.map(|p| p.max_id.to_string()),
        latest_page_notification_at: parts.page.map(|p| iso8601_millis(p.latest_at)),
        sample_account_ids: parts
            .sample_account_ids
            .iter()
            .map(i64::to_string)
            .collect(),
        status_id: parts.status_id.map(|id| id.to_string()),
        report,
        event: None,
        moderation_warning: None,
    }
}

/// Enough of an account to show its avatar in a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartialAccountWithAvatar {
    pub id: String,
    pub acct: String,
    pub url: String,
    pub avatar: String,
    pub avatar_static: String,
    pub locked: bool,
    pub bot: bool,
}

pub fn partial_account(account: &Account) -> PartialAccountWithAvatar {
    PartialAccountWithAvatar {
        id: account.id.clone(),
        acct: account.acct.clone(),
        url: account.url.clone(),
        avatar: account.avatar.clone(),
        avatar_static: account.avatar_static.clone(),
        locked: account.locked,
        bot: account.bot,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PolicySummary {
    pub pending_requests_count: i64,
    pub pending_notifications_count: i64,
}

fn summary(s: Summary) -> PolicySummary {
    PolicySummary {
        pending_requests_count: s.pending_requests,
        pending_notifications_count: s.pending_notifications,
    }
}

/// `/api/v2/notifications/policy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationPolicyV2 {
    pub for_not_following: &'static str,
    pub for_not_followers: &'static str,
    pub for_new_accounts: &'static str,
    pub for_private_mentions: &'static str,
    pub for_limited_accounts: &'static str,
    pub summary: PolicySummary,
}

pub fn policy_v2(policy: &NotificationPolicy, s: Summary) -> NotificationPolicyV2 {
    NotificationPolicyV2 {
        for_not_following: policy.for_not_following.as_str(),
        for_not_followers: policy.for_not_followers.as_str(),
        for_new_accounts: policy.for_new_accounts.as_str(),
        for_private_mentions: policy.for_private_mentions.as_str(),
        for_limited_accounts: policy.for_limited_accounts.as_str(),
        summary: summary(s),
    }
}

/// `/api/v1/notifications/policy`: a setting filters unless it accepts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationPolicyV1 {
    pub filter_not_following: bool,
    pub filter_not_followers: bool,
    pub filter_new_accounts: bool,
    pub filter_private_mentions: bool,
    pub summary: PolicySummary,
}

pub fn policy_v1(policy: &NotificationPolicy, s: Summary) -> NotificationPolicyV1 {
    let filters = |action: PolicyAction| action != PolicyAction::Accept;
    NotificationPolicyV1 {
        filter_not_following: filters(policy.for_not_following),
        filter_not_followers: filters(policy.for_not_followers),
        filter_new_accounts: filters(policy.for_new_accounts),
        filter_private_mentions: filters(policy.for_private_mentions),
        summary: summary(s),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NotificationRequest {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub account: Account,
    /// A string, as Mastodon sends it.
    pub notifications_count: String,
    pub last_status: Option<Status>,
}

pub fn notification_request(
    id: i64,
    created_at: i64,
    updated_at: i64,
    account: Account,
    notifications_count: i64,
    last_status: Option<Status>,
) -> NotificationRequest {
    NotificationRequest {
        id: id.to_string(),
        created_at: iso8601_millis(created_at),
        updated_at: iso8601_millis(updated_at),
        account,
        notifications_count: notifications_count.to_string(),
        last_status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_outside_a_page_has_null_page_fields() {
        let parts = GroupParts {
            key: "favourite-7-479000",
            kind: "favourite",
            count: 2,
            most_recent_id: 12,
            sample_account_ids: &[3, 4],
            status_id: Some(7),
            page: None,
        };
        let json = serde_json::to_value(notification_group(&parts, None)).expect("json");
        assert_eq!(json["page_min_id"], serde_json::Value::Null);
        assert_eq!(json["most_recent_notification_id"], "12");
        assert_eq!(json["sample_account_ids"], serde_json::json!(["3", "4"]));
        assert_eq!(json["status_id"], "7");
        assert_eq!(json["type"], "favourite");
        assert!(json.get("event").is_some() && json.get("moderation_warning").is_some());
    }

    #[test]
    fn the_v1_policy_filters_unless_it_accepts() {
        let policy = NotificationPolicy {
            for_not_following: PolicyAction::Drop,
            ..NotificationPolicy::default()
        };
        let v1 = policy_v1(&policy, Summary::default());
        assert!(v1.filter_not_following);
        assert!(!v1.filter_private_mentions);
        let v2 = policy_v2(&policy, Summary::default());
        assert_eq!(v2.for_limited_accounts, "filter");
        assert_eq!(v2.for_not_following, "drop");
    }
}
