//! Like, received, and its Undo. Likes count only on local statuses: a
//! remote status's count is its own server's to keep.

use perch_db::{favourites, statuses};
use serde::Deserialize;

use super::activity::{Id, Referenced};
use super::{InboxError, Verified};
use crate::ApubState;

#[derive(Debug, Deserialize)]
pub struct Like {
    pub object: Id,
}

impl Like {
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let Some(status) = statuses::find_by_uri(&state.db, self.object.0.as_str()).await? else {
            return Ok(());
        };
        // Only a local original the liker may see is counted.
        if !status.local
            || status.reblog_of_id.is_some()
            || statuses::find_readable(&state.db, status.id, from.actor_account_id)
                .await?
                .is_none()
        {
            return Ok(());
        }
        let liker = from.sender(state).await?;
        let received = from.received();
        perch_domain::reactions::favourite(&state.domain, &liker, &status, Some(&received)).await?;
        Ok(())
    }
}

/// Undo of a Like: found by the Like's id, or by the embedded Like's
/// object. Only the liker may undo it.
pub(super) async fn undo(
    state: &ApubState,
    from: &Verified,
    like: &Referenced,
) -> Result<(), InboxError> {
    let by_id = match &like.id {
        Some(id) => favourites::find_by_uri(&state.db, id.as_str()).await?,
        None => None,
    };
    let status_id = match by_id {
        Some(row) if row.account_id == from.actor_account_id => Some(row.status_id),
        Some(_) => {
            return Err(InboxError::Forbidden(
                "only the liker may undo a Like".to_owned(),
            ));
        }
        None => match &like.object {
            Some(status_uri) => statuses::find_by_uri(&state.db, status_uri.as_str())
                .await?
                .map(|s| s.id),
            None => None,
        },
    };
    let Some(status_id) = status_id else {
        return Ok(());
    };
    let Some(status) = statuses::find_by_id(&state.db, status_id).await? else {
        return Ok(());
    };
    let liker = from.sender(state).await?;
    let received = from.received();
    perch_domain::reactions::unfavourite(&state.domain, &liker, &status, Some(&received)).await?;
    Ok(())
}
