//! Accept and Reject of a Follow we sent, received. Only the followed
//! actor may answer.

use perch_db::{actors, follows};
use perch_domain::follows::Answered;
use serde::Deserialize;

use super::activity::Referenced;
use super::follow::{by_follow_id, by_pair};
use super::{InboxError, Verified, account};
use crate::ApubState;

#[derive(Debug, Deserialize)]
pub struct Answer {
    /// The Follow, by id or embedded.
    pub object: Referenced,
}

impl Answer {
    pub async fn receive(
        self,
        state: &ApubState,
        from: &Verified,
        accept: bool,
    ) -> Result<(), InboxError> {
        // By the Follow's id; servers that rewrite it are matched by the
        // pair of actors in the embedded Follow.
        let mut relation = match &self.object.id {
            Some(id) => by_follow_id(state, id).await?,
            None => None,
        };
        if relation.is_none() {
            if let Some(follower_uri) = &self.object.actor {
                if let Some(follower) =
                    actors::find_by_uri(&state.db, follower_uri.as_str()).await?
                {
                    relation = by_pair(state, follower.id, from.actor_account_id).await?;
                }
            }
        }
        let Some(relation) = relation else {
            return Ok(());
        };
        if relation.target_account_id != from.actor_account_id {
            return Err(InboxError::Forbidden(
                "only the followed actor may answer a Follow".to_owned(),
            ));
        }
        let follower = account(state, relation.account_id).await?;
        let target = from.sender(state).await?;
        let received = from.received();
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
            perch_domain::follows::remove_follower(
                &state.domain,
                &follower,
                &target,
                Some(&received),
            )
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
}
