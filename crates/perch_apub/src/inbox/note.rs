//! What the handlers of Create, Update and Announce share about notes: the
//! object of an activity (embedded from its own origin, or fetched), read
//! and checked as a note, and a status by id, stored or fetched.

use perch_db::statuses::{self, StatusRow};
use serde_json::Value;
use url::Url;

use super::{InboxError, Verified};
use crate::ApubState;
use crate::ingest;
use crate::objects::note::{ReceivedNote, id_of, parse_note};
use crate::objects::person::same_origin;
use crate::resolve;

/// The object of a Create or Update: its own actor's, so on the verified
/// actor's server. Taken as embedded (the actor's signature covers it), or
/// fetched from there when given by id.
async fn object_of(
    state: &ApubState,
    object: &Value,
    from: &Verified,
) -> Result<Value, InboxError> {
    let id = id_of(object).ok_or_else(|| InboxError::Malformed("no object".to_owned()))?;
    if !same_origin(&id, &from.actor) {
        return Err(InboxError::Forbidden(
            "the object is not on its actor's server".to_owned(),
        ));
    }
    if object.is_object() {
        return Ok(object.clone());
    }
    resolve::fetch_object(state, &id)
        .await
        .map_err(|e| InboxError::fetch("cannot fetch the object", e))
}

/// The note an activity carries, checked: the verified actor wrote it.
/// `None` for objects that are not notes.
pub(super) async fn note_of(
    state: &ApubState,
    object: &Value,
    from: &Verified,
) -> Result<Option<ReceivedNote>, InboxError> {
    let object = object_of(state, object, from).await?;
    checked_note(&object, &from.actor)
}

/// `object` read as a note of `actor`'s: `None` for objects that are not
/// notes, refused when it names another author or lives on another server.
pub(super) fn checked_note(
    object: &Value,
    actor: &Url,
) -> Result<Option<ReceivedNote>, InboxError> {
    let mut note = match parse_note(object) {
        Ok(note) => note,
        Err(error) => {
            tracing::debug!(%error, "ignoring an object we do not store");
            return Ok(None);
        }
    };
    if note.attributed_to != *actor {
        // PeerTube names a video's account and its channel: either of them
        // may send it, as its author.
        let named = crate::objects::shapes::items(&object["attributedTo"])
            .into_iter()
            .filter_map(crate::objects::shapes::id_of)
            .any(|author| author == *actor);
        if !named {
            return Err(InboxError::Forbidden(
                "the note is not the actor's".to_owned(),
            ));
        }
        note.attributed_to = actor.clone();
    }
    if !same_origin(&note.id, actor) {
        return Err(InboxError::Forbidden(
            "the note is not on its actor's server".to_owned(),
        ));
    }
    Ok(Some(note))
}

/// A status by its id, stored already or fetched (with its parents).
pub(super) async fn status_by_uri(
    state: &ApubState,
    uri: &Url,
) -> Result<Option<StatusRow>, InboxError> {
    match ingest::note_by_uri(state, uri, 1).await? {
        Some(id) => Ok(statuses::find_by_id(&state.db, id).await?),
        None => Ok(None),
    }
}
