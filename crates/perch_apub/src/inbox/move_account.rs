//! Move, received: an account tells its followers it moved to another
//! one. Believed only when the new account's own document, fetched fresh
//! from its server, names the old one in `alsoKnownAs`; then the local
//! followers of the old account follow the new one.

use serde::Deserialize;

use super::activity::Id;
use super::{InboxError, Verified};
use crate::{ApubState, resolve};

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
        // Read fresh: the alias must be there now, on the new server.
        let (new, _) = resolve::fetch_actor(state, &self.target.0)
            .await
            .map_err(|e| InboxError::fetch("cannot fetch the account moved to", e))?;
        let aliases: Vec<String> = new
            .also_known_as
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        if !aliases.iter().any(|alias| alias == &old.uri) {
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
