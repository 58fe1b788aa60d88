//! Move, received: an account tells its followers it moved to another
//! one. Believed only when the new account's own document, fetched fresh
//! from its server, names the old one in `alsoKnownAs`; then the local
//! followers of the old account follow the new one.

use serde::Deserialize;

use super::activity::Id;
use super::{InboxError, Verified};
use crate::ApubState;
use crate::objects::person::aliases_of;
use crate::resolve::{self, ResolveError};

#[derive(Debug, Deserialize)]
pub struct Move {
    pub object: Id,
    pub target: Id,
}

impl Move {
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let old = from.sender(state).await?;
        // Only an account moves itself.
        if self.object.0.as_str() != old.uri {
            return Err(InboxError::Forbidden(
                "only an account moves itself".to_owned(),
            ));
        }
        if self.target.0.as_str() == old.uri {
            return Ok(());
        }
        // Read fresh: the alias must be there now, on the new server (or
        // here, when the new account is local).
        let new = match resolve::fetch_actor(state, &self.target.0).await {
            Ok((new, _)) => new,
            Err(ResolveError::Local) => {
                perch_db::actors::find_by_uri(&state.db, self.target.0.as_str())
                    .await?
                    .filter(|row| row.domain.is_none())
                    .ok_or_else(|| InboxError::Forbidden("no such local account".to_owned()))?
            }
            Err(e) => return Err(InboxError::fetch("cannot fetch the account moved to", e)),
        };
        if !aliases_of(&new)
            .iter()
            .any(|alias| alias.as_str() == old.uri)
        {
            return Err(InboxError::Forbidden(
                "the account moved to does not name the old one in alsoKnownAs".to_owned(),
            ));
        }
        let moved =
            perch_domain::accounts::moved(&state.domain, &old, &new, &from.received()).await?;
        tracing::info!(from = %old.uri, to = %new.uri, moved, "an account moved; its local followers follow the new one");
        Ok(())
    }
}
