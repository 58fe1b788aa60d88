//! Follow, received, and its Undo.

use perch_db::actors;
use perch_db::follows::{self, FollowRow, Kind};
use serde::Deserialize;

use super::activity::{Id, Referenced};
use super::{InboxError, Verified, account};
use crate::ApubState;

#[derive(Debug, Deserialize)]
pub struct Follow {
    /// Who is to be followed.
    pub object: Id,
}

impl Follow {
    /// Someone asks to follow a local account: a follow request when the
    /// account is locked, otherwise a follow, answered with an Accept.
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let target = match actors::find_by_uri(&state.db, self.object.0.as_str()).await? {
            Some(row) if row.domain.is_none() && row.actor_type != "Application" => row,
            // Not one of ours: nothing to do, and nothing to tell.
            _ => return Ok(()),
        };
        let follower = from.sender(state).await?;
        let received = from.received();
        perch_domain::follows::follow(&state.domain, &follower, &target, Some(&received)).await?;
        Ok(())
    }
}

/// The request or follow a Follow's id names.
pub(super) async fn by_follow_id(
    state: &ApubState,
    uri: &url::Url,
) -> Result<Option<FollowRow>, InboxError> {
    for kind in [Kind::Request, Kind::Follow] {
        if let Some(row) = follows::find_by_uri(&state.db, kind, uri.as_str()).await? {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

/// The request or, failing that, the follow from `follower` to `target`.
pub(super) async fn by_pair(
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

/// Undo of a Follow (or of a follow request), by the Follow's id or, for
/// servers that rewrite ids, by the account it names. Only the follower
/// may undo it.
pub(super) async fn undo(
    state: &ApubState,
    from: &Verified,
    follow: &Referenced,
) -> Result<(), InboxError> {
    let mut relation = match &follow.id {
        Some(id) => by_follow_id(state, id).await?,
        None => None,
    };
    if relation.is_none() {
        if let Some(target_uri) = &follow.object {
            if let Some(target) = actors::find_by_uri(&state.db, target_uri.as_str()).await? {
                relation = by_pair(state, from.actor_account_id, target.id).await?;
            }
        }
    }
    let Some(relation) = relation else {
        return Ok(());
    };
    if relation.account_id != from.actor_account_id {
        return Err(InboxError::Forbidden(
            "only the follower may undo a Follow".to_owned(),
        ));
    }
    let follower = from.sender(state).await?;
    let target = account(state, relation.target_account_id).await?;
    let received = from.received();
    perch_domain::follows::unfollow(&state.domain, &follower, &target, Some(&received)).await?;
    Ok(())
}
