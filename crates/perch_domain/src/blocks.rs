//! Keeping accounts away: blocks (local and received), mutes, a user's
//! blocks of whole servers, and muted conversations.
//!
//! A block ends the follows and requests between the two accounts, takes
//! each one's statuses out of the other's home feed and their
//! notifications out of each other's lists, and is published to a remote
//! blocked account's server. From then on the rule that keeps them apart
//! is one SQL predicate (perch_db's `kept_from!`), read by the timelines,
//! the notifications, threads, streams, chat and the follow path alike.

use perch_core::outbound::{BlockNote, Outbound, Relation};
use perch_core::time::{UnixMillis, now_millis};
use perch_db::accounts::AccountRow;
use perch_db::blocks::{self, NewMute};
use perch_db::follows;

use crate::describe::actor_ref;
use crate::error::{DomainError, Result};
use crate::{Domain, Received};

fn is_local(account: &AccountRow) -> bool {
    account.domain.is_none()
}

/// `blocker` blocks `target`. A remote blocker's Block of a local account
/// is `received`; blocking again changes nothing.
pub async fn block(
    domain: &Domain,
    blocker: &AccountRow,
    target: &AccountRow,
    received: Option<&Received>,
) -> Result<()> {
    if blocker.id == target.id {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    if !is_local(blocker) && !is_local(target) {
        return Err(DomainError::forbidden("neither account is local"));
    }
    let now = now_millis();
    let uri = match received {
        Some(received) => received.activity_id.clone(),
        None => domain.layout.activity_uri(domain.next_id()),
    };
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    let id = domain.next_id();
    if !blocks::insert_block(&mut change.tx, id, blocker.id, target.id, Some(&uri), now).await? {
        return change.commit().await;
    }
    end_relations(&mut change, domain, blocker, target).await?;
    for (owner, other) in [(blocker, target), (target, blocker)] {
        if is_local(owner) {
            blocks::clear_author_from_home(&mut change.tx, owner.id, other.id).await?;
            blocks::clear_notifications_from(&mut change.tx, owner.id, other.id).await?;
        }
    }
    if is_local(blocker) && !is_local(target) {
        change
            .publish(Outbound::Block(BlockNote {
                uri,
                actor: actor_ref(blocker),
                target: actor_ref(target),
            }))
            .await?;
    }
    change.commit().await
}

/// `blocker` takes its block of `target` back. A remote blocker's Undo is
/// `received`.
pub async fn unblock(
    domain: &Domain,
    blocker: &AccountRow,
    target: &AccountRow,
    received: Option<&Received>,
) -> Result<()> {
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    let Some(removed) = blocks::delete_block(&mut change.tx, blocker.id, target.id).await? else {
        return change.commit().await;
    };
    if is_local(blocker) && !is_local(target) {
        let uri = removed
            .uri
            .unwrap_or_else(|| domain.layout.activity_uri(domain.next_id()));
        change
            .publish(Outbound::UndoBlock(BlockNote {
                uri,
                actor: actor_ref(blocker),
                target: actor_ref(target),
            }))
            .await?;
    }
    change.commit().await
}

/// Every follow and request between `a` and `b`, both ways, ended in
/// `change`, each one's remote side told (an Undo of a local account's
/// follow, a Reject of a remote account's).
async fn end_relations(
    change: &mut crate::context::Change<'_>,
    domain: &Domain,
    a: &AccountRow,
    b: &AccountRow,
) -> Result<()> {
    for (follower, target) in [(a, b), (b, a)] {
        let removed = match follows::delete_follow(&mut change.tx, follower.id, target.id).await? {
            Some(row) => Some(row),
            None => follows::delete_request(&mut change.tx, follower.id, target.id).await?,
        };
        let Some(removed) = removed else { continue };
        for kind in ["follow", "follow_request"] {
            perch_db::notifications::retract(&mut change.tx, target.id, follower.id, kind, None)
                .await?;
        }
        let relation = Relation {
            follow_uri: removed
                .uri
                .clone()
                .unwrap_or_else(|| domain.layout.activity_uri(domain.next_id())),
            follower: actor_ref(follower),
            target: actor_ref(target),
        };
        if is_local(follower) && !is_local(target) {
            change.publish(Outbound::UndoFollow(relation)).await?;
        } else if !is_local(follower) && is_local(target) {
            change.publish(Outbound::RejectFollow(relation)).await?;
        }
    }
    Ok(())
}

/// How long a mute lasts and what it hides.
#[derive(Clone, Copy, Debug)]
pub struct MuteSettings {
    /// Also keep the target's notifications back (Mastodon's default).
    pub notifications: bool,
    /// When the mute ends by itself.
    pub expires_at: Option<UnixMillis>,
}

/// `account` (local) mutes `target`, or changes how it does. Mutes are
/// private: nothing is published.
pub async fn mute(
    domain: &Domain,
    account: &AccountRow,
    target: &AccountRow,
    settings: MuteSettings,
) -> Result<()> {
    if account.id == target.id || !is_local(account) {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    let mut change = domain.begin().await?;
    let mute = NewMute {
        id: domain.next_id(),
        account_id: account.id,
        target_account_id: target.id,
        hide_notifications: settings.notifications,
        expires_at: settings.expires_at,
        created_at: now_millis(),
    };
    if blocks::upsert_mute(&mut change.tx, &mute).await? {
        blocks::clear_author_from_home(&mut change.tx, account.id, target.id).await?;
    }
    change.commit().await
}

pub async fn unmute(domain: &Domain, account: &AccountRow, target: &AccountRow) -> Result<()> {
    let mut change = domain.begin().await?;
    blocks::delete_mute(&mut change.tx, account.id, target.id).await?;
    change.commit().await
}

/// A server's name as a domain block holds it: lower case, without a
/// scheme, path or trailing dot; `None` when it is no host name.
pub fn normalize_domain(input: &str) -> Option<String> {
    let trimmed = input.trim();
    let without_scheme = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed);
    let host = without_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
        && !host.starts_with(['.', '-', ':']);
    valid.then_some(host)
}

/// `account` (local) blocks the server `host`: every follow and request
/// between it and that server's accounts ends (each remote side told), and
/// their statuses leave its home feed. True when the block is new.
pub async fn block_domain(domain: &Domain, account: &AccountRow, host: &str) -> Result<bool> {
    let Some(host) = normalize_domain(host) else {
        return Err(DomainError::invalid("Validation failed: Domain is invalid"));
    };
    if host == *domain.local_domain {
        return Err(DomainError::invalid(
            "Validation failed: Domain cannot be this server's own",
        ));
    }
    let related = blocks::relations_with_domain(&domain.db, account.id, &host).await?;
    let mut change = domain.begin().await?;
    let id = domain.next_id();
    if !blocks::insert_domain_block(&mut change.tx, id, account.id, &host, now_millis()).await? {
        return change.commit().await.map(|()| false);
    }
    for other in &related {
        end_relations(&mut change, domain, account, other).await?;
    }
    blocks::clear_domain_from_home(&mut change.tx, account.id, &host).await?;
    change.commit().await?;
    Ok(true)
}

/// `account` unblocks the server `host`; false when it was not blocked.
pub async fn unblock_domain(domain: &Domain, account: &AccountRow, host: &str) -> Result<bool> {
    let Some(host) = normalize_domain(host) else {
        return Err(DomainError::invalid("Validation failed: Domain is invalid"));
    };
    Ok(blocks::delete_domain_block(&domain.db, account.id, &host).await?)
}

/// Whether nothing from `from` may reach `to` directly (a follow, a chat
/// message): a block either way, or `to`'s block of `from`'s server.
/// Mutes do not count: a muted account still may follow and write.
pub async fn refuses(domain: &Domain, to: &AccountRow, from: &AccountRow) -> Result<bool> {
    if blocks::blocked_either_way(&domain.db, to.id, from.id).await? {
        return Ok(true);
    }
    Ok(match &from.domain {
        Some(host) if is_local(to) => blocks::domain_blocked_by(&domain.db, to.id, host).await?,
        _ => false,
    })
}

/// `account` stops hearing of the thread `status` belongs to: no more
/// notifications about any of its statuses.
pub async fn mute_conversation(
    domain: &Domain,
    account: &AccountRow,
    status: &perch_db::statuses::StatusRow,
) -> Result<()> {
    let root = blocks::thread_root(&domain.db, status.id).await?;
    Ok(blocks::mute_conversation(&domain.db, account.id, root, now_millis()).await?)
}

/// `account` hears of `status`'s thread again.
pub async fn unmute_conversation(
    domain: &Domain,
    account: &AccountRow,
    status: &perch_db::statuses::StatusRow,
) -> Result<()> {
    let root = blocks::thread_root(&domain.db, status.id).await?;
    Ok(blocks::unmute_conversation(&domain.db, account.id, root).await?)
}

/// End the mutes whose time is up (housekeeping); how many ended.
pub async fn end_expired_mutes(domain: &Domain) -> Result<u64> {
    Ok(blocks::purge_expired_mutes(&domain.db, now_millis()).await?)
}

#[cfg(test)]
mod tests {
    use super::normalize_domain;

    #[test]
    fn domains_are_normalised_or_refused() {
        assert_eq!(
            normalize_domain(" Spam.Example. ").as_deref(),
            Some("spam.example")
        );
        assert_eq!(
            normalize_domain("https://spam.example/about").as_deref(),
            Some("spam.example")
        );
        assert_eq!(
            normalize_domain("spam.example:8443").as_deref(),
            Some("spam.example:8443")
        );
        assert_eq!(normalize_domain(""), None);
        assert_eq!(normalize_domain("bad domain"), None);
        assert_eq!(normalize_domain("-x.example"), None);
        assert_eq!(normalize_domain("a\u{e9}.example"), None);
    }
}
