//! Each local account's notification policy (Mastodon 4.3's
//! `NotificationPolicy`), and the one place it is applied: [`verdict`],
//! which [`crate::notifications::insert`] asks before storing anything, so
//! that a local action and an activity from another server meet the same
//! rules.

use perch_core::notifications::{
    Circumstances, NEW_ACCOUNT_MILLIS, NEW_FOLLOWER_MILLIS, NotificationPolicy, PolicyAction,
    Verdict, decide, filterable,
};
use perch_core::role::Role;
use perch_core::time::UnixMillis;

use crate::notifications::NewNotification;
use crate::{Db, Result, Tx};

/// The stored visibility of a direct status.
const DIRECT: i16 = 3;
/// How far up a thread a private mention looks for the recipient's own.
const THREAD_DEPTH: i64 = 100;

fn action(stored: Option<&str>, default: PolicyAction) -> PolicyAction {
    stored.and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// A policy from its stored columns; a missing row or value is the default.
fn from_columns(columns: [Option<&str>; 5]) -> NotificationPolicy {
    let d = NotificationPolicy::default();
    let [following, followers, new, private, limited] = columns;
    NotificationPolicy {
        for_not_following: action(following, d.for_not_following),
        for_not_followers: action(followers, d.for_not_followers),
        for_new_accounts: action(new, d.for_new_accounts),
        for_private_mentions: action(private, d.for_private_mentions),
        for_limited_accounts: action(limited, d.for_limited_accounts),
    }
}

#[derive(sqlx::FromRow)]
struct PolicyRow {
    for_not_following: String,
    for_not_followers: String,
    for_new_accounts: String,
    for_private_mentions: String,
    for_limited_accounts: String,
}

/// `account_id`'s policy (the defaults until it sets one).
pub async fn get(db: &Db, account_id: i64) -> Result<NotificationPolicy> {
    let row: Option<PolicyRow> = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT for_not_following, for_not_followers, for_new_accounts, \
             for_private_mentions, for_limited_accounts FROM notification_policies \
             WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(pool)
        .await?
    });
    Ok(match row {
        Some(r) => from_columns([
            Some(&r.for_not_following),
            Some(&r.for_not_followers),
            Some(&r.for_new_accounts),
            Some(&r.for_private_mentions),
            Some(&r.for_limited_accounts),
        ]),
        None => NotificationPolicy::default(),
    })
}

/// Store `account_id`'s whole policy.
pub async fn set(
    db: &Db,
    account_id: i64,
    policy: &NotificationPolicy,
    now: UnixMillis,
) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO notification_policies (account_id, for_not_following, \
             for_not_followers, for_new_accounts, for_private_mentions, for_limited_accounts, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (account_id) DO UPDATE SET \
             for_not_following = excluded.for_not_following, \
             for_not_followers = excluded.for_not_followers, \
             for_new_accounts = excluded.for_new_accounts, \
             for_private_mentions = excluded.for_private_mentions, \
             for_limited_accounts = excluded.for_limited_accounts, \
             updated_at = excluded.updated_at",
        )
        .bind(account_id)
        .bind(policy.for_not_following.as_str())
        .bind(policy.for_not_followers.as_str())
        .bind(policy.for_new_accounts.as_str())
        .bind(policy.for_private_mentions.as_str())
        .bind(policy.for_limited_accounts.as_str())
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// What the policy weighs, read in one query.
#[derive(sqlx::FromRow)]
struct Facts {
    recipient_role: Option<String>,
    sender_local: bool,
    sender_role: Option<String>,
    sender_created_at: i64,
    sender_limited: bool,
    following: bool,
    followed_since: Option<i64>,
    permitted: bool,
    for_not_following: Option<String>,
    for_not_followers: Option<String>,
    for_new_accounts: Option<String>,
    for_private_mentions: Option<String>,
    for_limited_accounts: Option<String>,
    status_visibility: Option<i16>,
    status_in_reply_to: Option<i64>,
}

fn role(name: Option<&str>) -> Role {
    name.and_then(|n| n.parse().ok()).unwrap_or(Role::User)
}

/// What becomes of `new` under its recipient's policy; None when the
/// recipient is not a local account (nothing is stored for it).
pub(crate) async fn verdict(tx: &mut Tx, new: &NewNotification<'_>) -> Result<Option<Verdict>> {
    let facts: Option<Facts> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT (SELECT u.role FROM users u WHERE u.account_id = r.id) AS recipient_role, \
             s.domain IS NULL AS sender_local, \
             (SELECT u.role FROM users u WHERE u.account_id = s.id) AS sender_role, \
             s.created_at AS sender_created_at, s.silenced_at IS NOT NULL AS sender_limited, \
             EXISTS (SELECT 1 FROM follows f WHERE f.account_id = r.id \
               AND f.target_account_id = s.id) AS following, \
             (SELECT f.created_at FROM follows f WHERE f.account_id = s.id \
               AND f.target_account_id = r.id) AS followed_since, \
             EXISTS (SELECT 1 FROM notification_permissions np WHERE np.account_id = r.id \
               AND np.from_account_id = s.id) AS permitted, \
             p.for_not_following, p.for_not_followers, p.for_new_accounts, \
             p.for_private_mentions, p.for_limited_accounts, \
             st.visibility AS status_visibility, st.in_reply_to_id AS status_in_reply_to \
             FROM accounts r JOIN accounts s ON s.id = $2 \
             LEFT JOIN notification_policies p ON p.account_id = r.id \
             LEFT JOIN statuses st ON st.id = $3 \
             WHERE r.id = $1 AND r.domain IS NULL",
        )
        .bind(new.account_id)
        .bind(new.from_account_id)
        .bind(new.status_id)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some(facts) = facts else {
        return Ok(None);
    };
    let policy = from_columns([
        facts.for_not_following.as_deref(),
        facts.for_not_followers.as_deref(),
        facts.for_new_accounts.as_deref(),
        facts.for_private_mentions.as_deref(),
        facts.for_limited_accounts.as_deref(),
    ]);
    let sender_role = role(facts.sender_role.as_deref());
    // A moderator's or admin's message to someone they outrank always
    // arrives, as in Mastodon.
    let from_staff = new.kind == "mention"
        && facts.sender_local
        && sender_role >= Role::Moderator
        && sender_role > role(facts.recipient_role.as_deref());
    let mut circumstances = Circumstances {
        filterable: filterable(new.kind),
        permitted: facts.permitted,
        from_staff,
        following: facts.following,
        followed_by: facts
            .followed_since
            .is_some_and(|since| new.created_at - since >= NEW_FOLLOWER_MILLIS),
        new_account: new.created_at - facts.sender_created_at < NEW_ACCOUNT_MILLIS,
        limited: facts.sender_limited,
        unsolicited_private_mention: false,
    };
    // Only worth climbing the thread when the answer can change anything.
    let private = new.kind == "mention" && facts.status_visibility == Some(DIRECT);
    let exempt = !circumstances.filterable
        || circumstances.permitted
        || circumstances.from_staff
        || circumstances.following;
    if private && policy.for_private_mentions != PolicyAction::Accept && !exempt {
        circumstances.unsolicited_private_mention = match facts.status_in_reply_to {
            None => true,
            Some(parent) => {
                !answers_private_mention(tx, parent, new.account_id, new.from_account_id).await?
            }
        };
    }
    Ok(Some(decide(&policy, &circumstances)))
}

/// Whether `parent` or one of its ancestors is a direct status by
/// `recipient` that mentions `sender`: a private conversation the
/// recipient began, which the sender's private mention answers.
async fn answers_private_mention(
    tx: &mut Tx,
    parent: i64,
    recipient: i64,
    sender: i64,
) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar(
            "WITH RECURSIVE up (id, parent, depth) AS ( \
               SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = $1 \
               UNION ALL \
               SELECT p.id, p.in_reply_to_id, up.depth + 1 FROM statuses p \
                 JOIN up ON p.id = up.parent WHERE up.depth < $4) \
             SELECT EXISTS (SELECT 1 FROM up JOIN statuses s ON s.id = up.id \
               WHERE s.account_id = $2 AND s.visibility = $5 \
               AND EXISTS (SELECT 1 FROM status_mentions m WHERE m.status_id = s.id \
                 AND m.account_id = $3))",
        )
        .bind(parent)
        .bind(recipient)
        .bind(sender)
        .bind(THREAD_DEPTH)
        .bind(DIRECT)
        .fetch_one(&mut *conn)
        .await?
    }))
}
