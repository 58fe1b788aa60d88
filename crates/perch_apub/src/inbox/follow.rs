//! Follow, Accept / Reject of our Follow, and Undo of a Follow, received.

use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::actors;
use perch_db::follows::{self, FollowRow, Kind};
use perch_domain::follows::Answered;
use serde_json::Value;

use super::note::sender;
use super::{InboxError, Verified};
use crate::ApubState;
use crate::objects::note::id_of;

async fn account(state: &ApubState, id: i64) -> Result<AccountRow, InboxError> {
    accounts::find_by_id(&state.db, Id::from_i64(id))
        .await?
        .ok_or_else(|| InboxError::Internal(format!("account {id} vanished")))
}

/// Someone asks to follow a local account: a follow request when the
/// account is locked, otherwise a follow, answered with an Accept.
pub async fn receive_follow(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let target_uri = id_of(&activity.activity["object"])
        .ok_or_else(|| InboxError::Malformed("Follow without an object".to_owned()))?;
    let target = match actors::find_by_uri(&state.db, target_uri.as_str()).await? {
        Some(row) if row.domain.is_none() && row.actor_type != "Application" => row,
        // Not one of ours: nothing to do, and nothing to tell.
        _ => return Ok(()),
    };
    let follower = sender(state, &activity).await?;
    let received = activity.received();
    perch_domain::follows::follow(&state.domain, &follower, &target, Some(&received)).await?;
    Ok(())
}

/// The request or follow an activity names by the Follow's id.
async fn by_follow_id(state: &ApubState, uri: &str) -> Result<Option<FollowRow>, InboxError> {
    for kind in [Kind::Request, Kind::Follow] {
        if let Some(row) = follows::find_by_uri(&state.db, kind, uri).await? {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// An answer to a Follow we sent. Only the followed actor may answer.
pub async fn receive_answer(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = &activity.activity["object"];
    let follow_id = id_of(object)
        .ok_or_else(|| InboxError::Malformed("answer without an object".to_owned()))?;
    let accept = activity.kind == "Accept";
    // By the Follow's id; servers that rewrite it are matched by the pair
    // of actors in the embedded Follow.
    let mut relation = by_follow_id(state, follow_id.as_str()).await?;
    if relation.is_none() {
        if let Some(follower_uri) = object.get("actor").and_then(Value::as_str) {
            if let Some(follower) = actors::find_by_uri(&state.db, follower_uri).await? {
                relation = find_pair(state, follower.id, activity.actor_account_id).await?;
            }
        }
    }
    let Some(relation) = relation else {
        return Ok(());
    };
    if relation.target_account_id != activity.actor_account_id {
        return Err(InboxError::Forbidden(
            "only the followed actor may answer a Follow".to_owned(),
        ));
    }
    let follower = account(state, relation.account_id).await?;
    let target = sender(state, &activity).await?;
    let received = activity.received();
    let answered = perch_domain::follows::answer_request(
        &state.domain,
        &follower,
        &target,
        accept,
        Some(&received),
    )
    .await?;
    if answered == Answered::NoRequest && !accept {
        // A Reject of an accepted follow: the followed actor removed us.
        perch_domain::follows::remove_follower(&state.domain, &follower, &target, Some(&received))
            .await?;
    }
    // The first follower here brings in the account's recent posts; for
    // later followers they are here already, and the follow merged them
    // into the new follower's home feed.
    if answered == Answered::Accepted
        && !follows::has_local_follower_besides(&state.db, target.id, follower.id).await?
    {
        crate::backfill::recent_posts(state, &target).await;
    }
    Ok(())
}

/// The request or, failing that, the follow from `follower` to `target`.
async fn find_pair(
    state: &ApubState,
    follower: i64,
    target: i64,
) -> Result<Option<FollowRow>, InboxError> {
    for kind in [Kind::Request, Kind::Follow] {
        if let Some(row) = follows::find(&state.db, kind, follower, target).await? {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// Undo of a Follow (or of a follow request). Only the follower may undo.
pub async fn receive_undo(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = &activity.activity["object"];
    let follow_id =
        id_of(object).ok_or_else(|| InboxError::Malformed("Undo without an object".to_owned()))?;
    let mut relation = by_follow_id(state, follow_id.as_str()).await?;
    if relation.is_none() {
        if let Some(target_uri) = object.get("object").and_then(Value::as_str) {
            if let Some(target) = actors::find_by_uri(&state.db, target_uri).await? {
                relation = find_pair(state, activity.actor_account_id, target.id).await?;
            }
        }
    }
    let Some(relation) = relation else {
        return Ok(());
    };
    if relation.account_id != activity.actor_account_id {
        return Err(InboxError::Forbidden(
            "only the follower may undo a Follow".to_owned(),
        ));
    }
    let follower = sender(state, &activity).await?;
    let target = account(state, relation.target_account_id).await?;
    let received = activity.received();
    perch_domain::follows::unfollow(&state.domain, &follower, &target, Some(&received)).await?;
    Ok(())
}
