//! Announce, received, and its Undo.
//!
//! Announces of local statuses are counted and notified; announces of
//! remote statuses are stored (fetching the original when it is not known)
//! when the announcer has local followers, so their home feeds show them.

use perch_core::status::Visibility;
use perch_db::{follows, statuses};
use serde::Deserialize;
use serde_json::Value;

use super::activity::{Id, Referenced};
use super::note::status_by_uri;
use super::{InboxError, Verified};
use crate::ApubState;
use crate::activities::is_public;

#[derive(Debug, Deserialize)]
pub struct Announce {
    pub object: Id,
    /// Public when it names the public collection (in any of its forms).
    #[serde(default)]
    pub to: Value,
}

impl Announce {
    fn is_public(&self) -> bool {
        match &self.to {
            Value::String(s) => is_public(s),
            Value::Array(items) => items.iter().filter_map(Value::as_str).any(is_public),
            _ => false,
        }
    }

    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let announcer = from.actor_account_id;
        let object = &self.object.0;
        let original = match statuses::find_by_uri(&state.db, object.as_str()).await? {
            Some(row) => row,
            None => {
                if !follows::has_local_follower(&state.db, announcer).await? {
                    return Ok(());
                }
                match status_by_uri(state, object).await? {
                    Some(row) => row,
                    None => return Ok(()),
                }
            }
        };
        if !original.local && !follows::has_local_follower(&state.db, announcer).await? {
            return Ok(());
        }
        let booster = from.sender(state).await?;
        // What anyone may read, or the announcer's own followers-only
        // status (to their followers), as the domain's rule says.
        let asked = if self.is_public() {
            Visibility::Public
        } else {
            Visibility::Unlisted
        };
        let Some(visibility) =
            perch_domain::reactions::reblog_visibility(&booster, &original, asked)
        else {
            tracing::debug!(status = %original.uri, "an Announce of a status that may not be reblogged");
            return Ok(());
        };
        let received = from.received();
        perch_domain::reactions::reblog(
            &state.domain,
            &booster,
            &original,
            visibility,
            Some(&received),
        )
        .await?;
        Ok(())
    }
}

/// Undo of an Announce: the reblog, by the Announce's id, goes. Only the
/// announcer may undo it.
pub(super) async fn undo(
    state: &ApubState,
    from: &Verified,
    announce: &Referenced,
) -> Result<(), InboxError> {
    let Some(id) = &announce.id else {
        return Err(InboxError::Malformed(
            "an Undo of an Announce names it by id".to_owned(),
        ));
    };
    let Some(reblog) = statuses::find_by_uri(&state.db, id.as_str()).await? else {
        return Ok(());
    };
    if reblog.account_id != from.actor_account_id || reblog.reblog_of_id.is_none() {
        return Err(InboxError::Forbidden(
            "only the announcer may undo an Announce".to_owned(),
        ));
    }
    let original = match reblog.reblog_of_id {
        Some(id) => statuses::find_by_id(&state.db, id).await?,
        None => None,
    };
    let booster = from.sender(state).await?;
    let received = from.received();
    perch_domain::reactions::unreblog(
        &state.domain,
        &reblog,
        original.as_ref(),
        &booster,
        Some(&received),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Announce;

    fn announce(to: serde_json::Value) -> Announce {
        serde_json::from_value(json!({"object": "https://a.example/notes/1", "to": to}))
            .expect("an Announce")
    }

    #[test]
    fn the_public_collection_is_read_in_each_of_its_forms() {
        for public in [
            json!("https://www.w3.org/ns/activitystreams#Public"),
            json!("as:Public"),
            json!("Public"),
            json!(["https://a.example/users/x/followers", "as:Public"]),
        ] {
            assert!(announce(public.clone()).is_public(), "{public}");
        }
        for other in [
            json!("https://a.example/users/x/followers"),
            json!(["https://a.example/users/x/followers"]),
            json!(null),
            json!({"id": "as:Public"}),
        ] {
            assert!(!announce(other.clone()).is_public(), "{other}");
        }
    }
}
