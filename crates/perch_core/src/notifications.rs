//! The rules of notifications that hold however they arrive: how Mastodon
//! 4.3 groups them (the `group_key` each one gets when it is stored) and
//! its notification policy (which ones a recipient accepts, keeps apart as
//! filtered, or drops).
//!
//! Everything here is pure: the storage gathers the facts
//! ([`Circumstances`]) and asks [`decide`].

use std::fmt;
use std::str::FromStr;

use crate::time::UnixMillis;

/// The types grouped unless a client asks otherwise (`grouped_types[]`).
pub const GROUPED_TYPES: [&str; 3] = ["favourite", "follow", "reblog"];

/// A group spans at most this many hourly buckets from its first one.
pub const MAX_GROUP_SPAN_HOURS: i64 = 12;

const HOUR_MILLIS: i64 = 3_600_000;

/// The key of a notification that is not grouped with any other.
pub fn ungrouped_key(id: i64) -> String {
    format!("ungrouped-{id}")
}

/// The id inside an [`ungrouped_key`], if `key` is one.
pub fn ungrouped_id(key: &str) -> Option<i64> {
    key.strip_prefix("ungrouped-")?.parse().ok()
}

/// What groups of one kind share before their time bucket: likes and
/// reblogs of one status, or follows. None for a type that is not grouped.
pub fn group_prefix(kind: &str, status_id: Option<i64>) -> Option<String> {
    match (kind, status_id) {
        ("favourite" | "reblog", Some(status)) => Some(format!("{kind}-{status}")),
        ("follow", _) => Some("follow".to_owned()),
        _ => None,
    }
}

/// The hour since the epoch that `at` falls in.
pub fn hour_bucket(at: UnixMillis) -> i64 {
    at.div_euclid(HOUR_MILLIS)
}

/// The keys a notification with `prefix` made at `at` may join: a group
/// begun in one of the last [`MAX_GROUP_SPAN_HOURS`] hourly buckets, newest
/// first. The first is the key of a new group begun now. As in Mastodon, a
/// notification joins the most recent of these groups that exists, so a
/// burst of likes stays one group for up to twelve hours.
pub fn candidate_keys(prefix: &str, at: UnixMillis) -> Vec<String> {
    let now = hour_bucket(at);
    (0..MAX_GROUP_SPAN_HOURS)
        .map(|back| format!("{prefix}-{}", now - back))
        .collect()
}

/// What a recipient does with notifications of one kind of sender.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PolicyAction {
    #[default]
    Accept,
    /// Stored apart: out of the lists, streams and pushes, counted in a
    /// notification request.
    Filter,
    /// Not stored at all (the activity itself still happens).
    Drop,
}

impl PolicyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyAction::Accept => "accept",
            PolicyAction::Filter => "filter",
            PolicyAction::Drop => "drop",
        }
    }
}

impl fmt::Display for PolicyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyAction {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "accept" => Ok(PolicyAction::Accept),
            "filter" => Ok(PolicyAction::Filter),
            "drop" => Ok(PolicyAction::Drop),
            _ => Err(()),
        }
    }
}

/// A recipient's notification policy, Mastodon's five settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotificationPolicy {
    /// Senders the recipient does not follow.
    pub for_not_following: PolicyAction,
    /// Senders that have not followed the recipient for three days.
    pub for_not_followers: PolicyAction,
    /// Senders whose account is younger than thirty days.
    pub for_new_accounts: PolicyAction,
    /// Private mentions that do not answer one of the recipient's own.
    pub for_private_mentions: PolicyAction,
    /// Senders a moderator limited (silenced).
    pub for_limited_accounts: PolicyAction,
}

impl Default for NotificationPolicy {
    /// Limited accounts are filtered, everything else accepted.
    fn default() -> Self {
        NotificationPolicy {
            for_not_following: PolicyAction::Accept,
            for_not_followers: PolicyAction::Accept,
            for_new_accounts: PolicyAction::Accept,
            for_private_mentions: PolicyAction::Accept,
            for_limited_accounts: PolicyAction::Filter,
        }
    }
}

/// An account younger than this is new.
pub const NEW_ACCOUNT_MILLIS: i64 = 30 * 24 * HOUR_MILLIS;
/// A follower of less than this is not a follower yet.
pub const NEW_FOLLOWER_MILLIS: i64 = 3 * 24 * HOUR_MILLIS;

/// Whether the policy applies to notifications of `kind` at all: the
/// staff's, the end of polls and edits of what one interacted with are
/// never held back, as in Mastodon.
pub fn filterable(kind: &str) -> bool {
    !matches!(
        kind,
        "admin.sign_up" | "admin.report" | "poll" | "update" | "status"
    )
}

/// The facts about one notification that the policy weighs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Circumstances {
    /// Its kind is [`filterable`].
    pub filterable: bool,
    /// The recipient accepted a notification request from the sender.
    pub permitted: bool,
    /// A mention by a moderator or admin who outranks the recipient.
    pub from_staff: bool,
    /// The recipient follows the sender.
    pub following: bool,
    /// The sender has followed the recipient for [`NEW_FOLLOWER_MILLIS`].
    pub followed_by: bool,
    /// The sender's account is younger than [`NEW_ACCOUNT_MILLIS`].
    pub new_account: bool,
    /// A moderator limited the sender.
    pub limited: bool,
    /// A direct mention that does not answer a private mention of the
    /// sender by the recipient.
    pub unsolicited_private_mention: bool,
}

/// What becomes of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Notify,
    Filter,
    Drop,
}

/// Which of the policy's settings apply to these circumstances. Following
/// the sender exempts it from all but `for_not_followers` (which is about
/// the sender following back), as in Mastodon.
fn applicable(policy: &NotificationPolicy, c: &Circumstances) -> Vec<PolicyAction> {
    let mut actions = Vec::new();
    if !c.followed_by {
        actions.push(policy.for_not_followers);
    }
    if !c.following {
        actions.push(policy.for_not_following);
        if c.new_account {
            actions.push(policy.for_new_accounts);
        }
        if c.limited {
            actions.push(policy.for_limited_accounts);
        }
        if c.unsolicited_private_mention {
            actions.push(policy.for_private_mentions);
        }
    }
    actions
}

/// The verdict of `policy` on a notification in circumstances `c`: a drop
/// wins over a filter, as in Mastodon, which checks what to drop first.
pub fn decide(policy: &NotificationPolicy, c: &Circumstances) -> Verdict {
    if !c.filterable || c.permitted || c.from_staff {
        return Verdict::Notify;
    }
    let actions = applicable(policy, c);
    if actions.contains(&PolicyAction::Drop) {
        Verdict::Drop
    } else if actions.contains(&PolicyAction::Filter) {
        Verdict::Filter
    } else {
        Verdict::Notify
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stranger() -> Circumstances {
        Circumstances {
            filterable: true,
            ..Circumstances::default()
        }
    }

    #[test]
    fn keys_group_likes_per_status_and_follows_per_time() {
        assert_eq!(
            group_prefix("favourite", Some(7)).as_deref(),
            Some("favourite-7")
        );
        assert_eq!(group_prefix("reblog", Some(7)).as_deref(), Some("reblog-7"));
        assert_eq!(group_prefix("follow", None).as_deref(), Some("follow"));
        assert_eq!(group_prefix("mention", Some(7)), None);
        let at = 479_000 * HOUR_MILLIS + 5;
        let keys = candidate_keys("follow", at);
        assert_eq!(keys.len(), 12);
        assert_eq!(keys[0], "follow-479000");
        assert_eq!(keys[11], "follow-478989");
        assert_eq!(ungrouped_key(42), "ungrouped-42");
        assert_eq!(ungrouped_id("ungrouped-42"), Some(42));
        assert_eq!(ungrouped_id("follow-42"), None);
    }

    #[test]
    fn the_default_policy_accepts_all_but_limited_strangers() {
        let policy = NotificationPolicy::default();
        assert_eq!(decide(&policy, &stranger()), Verdict::Notify);
        let limited = Circumstances {
            limited: true,
            ..stranger()
        };
        assert_eq!(decide(&policy, &limited), Verdict::Filter);
        let followed = Circumstances {
            following: true,
            ..limited
        };
        assert_eq!(decide(&policy, &followed), Verdict::Notify);
    }

    #[test]
    fn drop_wins_and_exemptions_hold() {
        let policy = NotificationPolicy {
            for_not_following: PolicyAction::Filter,
            for_new_accounts: PolicyAction::Drop,
            ..NotificationPolicy::default()
        };
        assert_eq!(decide(&policy, &stranger()), Verdict::Filter);
        let new = Circumstances {
            new_account: true,
            ..stranger()
        };
        assert_eq!(decide(&policy, &new), Verdict::Drop);
        for exempt in [
            Circumstances {
                permitted: true,
                ..new
            },
            Circumstances {
                from_staff: true,
                ..new
            },
            Circumstances {
                filterable: false,
                ..new
            },
            Circumstances {
                following: true,
                ..new
            },
        ] {
            assert_eq!(decide(&policy, &exempt), Verdict::Notify, "{exempt:?}");
        }
    }

    #[test]
    fn private_mentions_and_followers() {
        let policy = NotificationPolicy {
            for_private_mentions: PolicyAction::Filter,
            for_not_followers: PolicyAction::Drop,
            ..NotificationPolicy::default()
        };
        let follower = Circumstances {
            followed_by: true,
            ..stranger()
        };
        assert_eq!(decide(&policy, &follower), Verdict::Notify);
        let private = Circumstances {
            unsolicited_private_mention: true,
            ..follower
        };
        assert_eq!(decide(&policy, &private), Verdict::Filter);
        assert_eq!(decide(&policy, &stranger()), Verdict::Drop);
        assert_eq!("drop".parse(), Ok(PolicyAction::Drop));
        assert!("maybe".parse::<PolicyAction>().is_err());
    }
}
