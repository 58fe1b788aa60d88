//! Following: asking, answering, taking back and removing, for local and
//! remote accounts on either side.
//!
//! A follow of a local account is immediate unless the account is locked
//! (then it is a request it answers); a follow of a remote account is a
//! request until its server answers. Each change between a local and a
//! remote account is published as the matching activity (Follow, Accept,
//! Reject, Undo) in the same transaction.

use perch_core::outbound::{Outbound, Relation};
use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::follows::{self, FollowRow, Kind, NewFollow};
use perch_db::notifications;

use crate::describe::actor_ref;
use crate::error::{DomainError, Result};
use crate::{Domain, Received};

fn is_local(account: &AccountRow) -> bool {
    account.domain.is_none()
}

/// The follow of `follower` to `target` as its activities name it.
fn relation(follow_uri: String, follower: &AccountRow, target: &AccountRow) -> Relation {
    Relation {
        follow_uri,
        follower: actor_ref(follower),
        target: actor_ref(target),
    }
}

/// A follow between accounts kept apart: a local follower is told no; a
/// remote one's Follow is answered with a Reject (once per activity).
async fn refuse(
    domain: &Domain,
    follower: &AccountRow,
    target: &AccountRow,
    received: Option<&Received>,
) -> Result<()> {
    let Some(received) = received.filter(|_| !is_local(follower)) else {
        return Err(DomainError::forbidden("This action is not allowed"));
    };
    let mut change = domain.begin().await?;
    if change.first_time(Some(received)).await? {
        change
            .publish(Outbound::RejectFollow(relation(
                received.activity_id.clone(),
                follower,
                target,
            )))
            .await?;
    }
    change.commit().await
}

/// `follower` follows `target`, or asks to. A remote follower's Follow is
/// `received` (and answered with an Accept unless `target` is locked);
/// asking again what is asked or granted already changes nothing.
pub async fn follow(
    domain: &Domain,
    follower: &AccountRow,
    target: &AccountRow,
    received: Option<&Received>,
) -> Result<()> {
    if follower.id == target.id || target.actor_type == "Application" {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    if !is_local(follower) && !is_local(target) {
        return Err(DomainError::forbidden("neither account is local"));
    }
    if crate::blocks::refuses(domain, target, follower).await?
        || crate::blocks::refuses(domain, follower, target).await?
    {
        return refuse(domain, follower, target, received).await;
    }
    // Read before the transaction: one that waits for a second pool
    // connection can starve the pool under load.
    let following = follows::find(&domain.db, Kind::Follow, follower.id, target.id)
        .await?
        .is_some();
    let asked = follows::find(&domain.db, Kind::Request, follower.id, target.id)
        .await?
        .is_some();
    if is_local(follower) && (following || asked) {
        return Ok(());
    }
    let now = now_millis();
    let follow_uri = match received {
        Some(received) => received.activity_id.clone(),
        None => domain.layout.activity_uri(domain.next_id()),
    };
    let row = NewFollow {
        id: domain.next_id(),
        account_id: follower.id,
        target_account_id: target.id,
        uri: Some(follow_uri.clone()),
        created_at: now,
    };
    // A remote account's server answers for it; a locked account answers
    // itself, unless it granted the follow already.
    let requested = !is_local(target) || (target.locked && !following);
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    if requested {
        follows::insert_request(&mut change.tx, &row).await?;
    } else {
        follows::insert_follow(&mut change.tx, &row).await?;
    }
    if !following {
        let kind = if requested {
            "follow_request"
        } else {
            "follow"
        };
        change
            .notify(target.id, follower.id, kind, None, now)
            .await?;
    }
    if is_local(follower) && !is_local(target) {
        let follow = relation(follow_uri, follower, target);
        change.publish(Outbound::Follow(follow)).await?;
    } else if !is_local(follower) && !requested {
        let follow = relation(follow_uri, follower, target);
        change.publish(Outbound::AcceptFollow(follow)).await?;
    }
    change.commit().await
}

/// `follower` stops following `target`, or withdraws its request. A remote
/// follower's Undo is `received`.
pub async fn unfollow(
    domain: &Domain,
    follower: &AccountRow,
    target: &AccountRow,
    received: Option<&Received>,
) -> Result<()> {
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    let removed = match follows::delete_follow(&mut change.tx, follower.id, target.id).await? {
        Some(row) => Some(row),
        None => follows::delete_request(&mut change.tx, follower.id, target.id).await?,
    };
    let Some(removed) = removed else {
        return change.commit().await;
    };
    for kind in ["follow", "follow_request"] {
        notifications::retract(&mut change.tx, target.id, follower.id, kind, None).await?;
    }
    if is_local(follower) && !is_local(target) {
        let follow_uri = removed
            .uri
            .clone()
            .unwrap_or_else(|| domain.layout.activity_uri(domain.next_id()));
        let follow = relation(follow_uri, follower, target);
        change.publish(Outbound::UndoFollow(follow)).await?;
    }
    change.commit().await
}

/// What an answer to a request did.
#[derive(Debug, PartialEq, Eq)]
pub enum Answered {
    /// There was no such request.
    NoRequest,
    /// The request became a follow.
    Accepted,
    Rejected,
    /// A redelivered answer: nothing changed.
    Duplicate,
}

/// `target` answers `follower`'s request. A local target's answer goes to
/// a remote follower; a remote target's answer is `received`.
pub async fn answer_request(
    domain: &Domain,
    follower: &AccountRow,
    target: &AccountRow,
    accept: bool,
    received: Option<&Received>,
) -> Result<Answered> {
    let now = now_millis();
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(Answered::Duplicate);
    }
    let Some(request) = follows::delete_request(&mut change.tx, follower.id, target.id).await?
    else {
        // Nothing to answer: the activity stays unrecorded, so that the
        // caller may apply it another way (a Reject of an accepted follow).
        return Ok(Answered::NoRequest);
    };
    notifications::retract(
        &mut change.tx,
        target.id,
        follower.id,
        "follow_request",
        None,
    )
    .await?;
    if accept {
        let follow = NewFollow {
            id: domain.next_id(),
            account_id: follower.id,
            target_account_id: target.id,
            uri: request.uri.clone(),
            created_at: now,
        };
        follows::insert_follow(&mut change.tx, &follow).await?;
    }
    if is_local(target) && !is_local(follower) {
        change
            .publish(answer(&request, follower, target, accept))
            .await?;
    }
    change.commit().await?;
    Ok(if accept {
        Answered::Accepted
    } else {
        Answered::Rejected
    })
}

fn answer(
    request: &FollowRow,
    follower: &AccountRow,
    target: &AccountRow,
    accept: bool,
) -> Outbound {
    let follow = relation(request.uri.clone().unwrap_or_default(), follower, target);
    if accept {
        Outbound::AcceptFollow(follow)
    } else {
        Outbound::RejectFollow(follow)
    }
}

/// `target` removes `follower` from its followers: a local target tells a
/// remote follower with a Reject; a remote target's Reject is `received`.
pub async fn remove_follower(
    domain: &Domain,
    follower: &AccountRow,
    target: &AccountRow,
    received: Option<&Received>,
) -> Result<()> {
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    let removed = follows::delete_follow(&mut change.tx, follower.id, target.id).await?;
    if let Some(row) = removed.filter(|_| is_local(target) && !is_local(follower)) {
        change
            .publish(answer(&row, follower, target, false))
            .await?;
    }
    change.commit().await
}
