//! Delete, received: of a status (or reblog) of the actor's, or of the
//! actor itself, which takes everything of theirs with it.

use perch_db::statuses;
use serde::Deserialize;

use super::activity::Id;
use super::{InboxError, Verified};
use crate::ApubState;

#[derive(Debug, Deserialize)]
pub struct Delete {
    /// What is deleted (a Tombstone, or an id).
    pub object: Id,
}

impl Delete {
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let object = self.object.0;
        let author = from.sender(state).await?;
        if object == from.actor {
            // The account's rows go, its received ids with them: nothing to
            // record, and purging twice is harmless.
            perch_domain::accounts::purge_remote(&state.domain, &author, None).await?;
            return Ok(());
        }
        let Some(row) = statuses::find_by_uri(&state.db, object.as_str()).await? else {
            return Ok(());
        };
        if row.account_id != from.actor_account_id {
            return Err(InboxError::Forbidden(
                "the status is not the actor's".to_owned(),
            ));
        }
        let received = from.received();
        perch_domain::statuses::delete(&state.domain, &row, &author, Some(&received)).await?;
        Ok(())
    }
}
