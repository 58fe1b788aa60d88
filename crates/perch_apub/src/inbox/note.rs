//! Create, Update and Delete of notes, and Delete and Update of an actor,
//! received.
//!
//! A note is stored when someone here has a reason to see it: a local
//! account follows its author, it mentions or addresses a local account, or
//! it answers a local status. Replies bring their parent chain (fetched, a
//! bounded number of levels) so threads assemble.

use perch_core::id::Id;
use perch_core::status::Visibility;
use perch_db::accounts::{self, AccountRow};
use perch_db::{follows, statuses};
use perch_domain::statuses::Revision;
use serde_json::Value;

use super::{InboxError, Verified};
use crate::ApubState;
use crate::ingest::{self, local_accounts_named, mentioned, store_note, tags_of};
use crate::objects::note::{ReceivedNote, id_of, parse_note, visibility_of};
use crate::objects::person::authority;
use crate::resolve;

/// The sender's account.
pub(super) async fn sender(
    state: &ApubState,
    activity: &Verified,
) -> Result<AccountRow, InboxError> {
    accounts::find_by_id(&state.db, Id::from_i64(activity.actor_account_id))
        .await?
        .ok_or_else(|| InboxError::Internal("the sender vanished".to_owned()))
}

/// The object of a Create or Update. An embedded object is taken as it is
/// only from its own origin (the verified actor's server); otherwise it is
/// fetched from there.
async fn object_of(state: &ApubState, activity: &Verified) -> Result<Value, InboxError> {
    let object = &activity.activity["object"];
    let id = id_of(object).ok_or_else(|| InboxError::Malformed("no object".to_owned()))?;
    if object.is_object() && authority(&id) == authority(&activity.actor) {
        return Ok(object.clone());
    }
    resolve::fetch_object(state, &id)
        .await
        .map_err(|e| InboxError::fetch("cannot fetch the object", e))
}

/// The note of `activity`, checked: the verified actor wrote it.
async fn note_of(
    state: &ApubState,
    activity: &Verified,
) -> Result<Option<ReceivedNote>, InboxError> {
    let object = object_of(state, activity).await?;
    let note = match parse_note(&object) {
        Ok(note) => note,
        Err(error) => {
            tracing::debug!(%error, "ignoring an object we do not store");
            return Ok(None);
        }
    };
    if note.attributed_to != activity.actor {
        return Err(InboxError::Forbidden(
            "the note is not the actor's".to_owned(),
        ));
    }
    Ok(Some(note))
}

pub async fn receive_create(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let is_chat_message = activity.activity["object"]["type"] == "ChatMessage";
    let Some(note) = note_of(state, &activity).await? else {
        return Ok(());
    };
    let author = sender(state, &activity).await?;
    let received = activity.received();
    if is_chat_message {
        return super::chat::receive_message(state, &note, &author, Some(&received)).await;
    }
    if visibility_of(&note, author.followers_url.as_deref()) == Visibility::Direct {
        // A direct note to one local account is also a chat message; the
        // status below records the activity.
        super::chat::receive_message(state, &note, &author, None).await?;
    }
    if !wanted(state, &note, &author).await? {
        tracing::debug!(note = %note.id, "nobody here follows or is addressed; not stored");
        return Ok(());
    }
    store_note(state, note, &author, Some(&received), 0).await?;
    Ok(())
}

/// Whether anyone here has a reason to see the note.
async fn wanted(
    state: &ApubState,
    note: &ReceivedNote,
    author: &AccountRow,
) -> Result<bool, InboxError> {
    if follows::has_local_follower(&state.db, author.id).await? {
        return Ok(true);
    }
    if !local_accounts_named(state, note).await?.is_empty() {
        return Ok(true);
    }
    if let Some(parent) = &note.in_reply_to {
        if let Some(row) = statuses::find_by_uri(&state.db, parent.as_str()).await? {
            return Ok(row.local);
        }
    }
    Ok(false)
}

pub async fn receive_update(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = &activity.activity["object"];
    let kind = object["type"].as_str().unwrap_or_default();
    if matches!(
        kind,
        "Person" | "Service" | "Application" | "Group" | "Organization"
    ) {
        // A profile changed: refetch it from its origin rather than trust
        // the embedded copy.
        if id_of(object).as_ref() == Some(&activity.actor) {
            resolve::fetch_actor(state, &activity.actor)
                .await
                .map_err(|e| InboxError::fetch("cannot refresh the actor", e))?;
        }
        return Ok(());
    }
    let Some(note) = note_of(state, &activity).await? else {
        return Ok(());
    };
    let Some(current) = statuses::find_by_uri(&state.db, note.id.as_str()).await? else {
        return Ok(());
    };
    if current.account_id != activity.actor_account_id {
        return Err(InboxError::Forbidden(
            "the status is not the actor's".to_owned(),
        ));
    }
    let author = sender(state, &activity).await?;
    let mentions = mentioned(state, &note).await?;
    let tags = tags_of(&note);
    let received = activity.received();
    perch_domain::statuses::edit(
        &state.domain,
        &current,
        &author,
        Revision {
            content: note.content,
            source_text: None,
            spoiler_text: note.spoiler_text,
            sensitive: note.sensitive,
            language: note.language,
            mentions: &mentions,
            tags: &tags,
            edited_at: note.updated,
            received: Some(&received),
        },
    )
    .await?;
    Ok(())
}

/// Delete of a status, or of the actor itself (then everything of theirs
/// goes).
pub async fn receive_delete(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = id_of(&activity.activity["object"])
        .ok_or_else(|| InboxError::Malformed("Delete without an object".to_owned()))?;
    let author = sender(state, &activity).await?;
    if object == activity.actor {
        // The account's rows go, its received ids with them: nothing to
        // record, and purging twice is harmless.
        perch_domain::accounts::purge_remote(&state.domain, &author, None).await?;
        return Ok(());
    }
    let Some(row) = statuses::find_by_uri(&state.db, object.as_str()).await? else {
        return Ok(());
    };
    if row.account_id != activity.actor_account_id {
        return Err(InboxError::Forbidden(
            "the status is not the actor's".to_owned(),
        ));
    }
    let received = activity.received();
    perch_domain::statuses::delete(&state.domain, &row, &author, Some(&received)).await?;
    Ok(())
}

/// A status by its id, stored already or fetched (with its parents).
pub(super) async fn status_by_uri(
    state: &ApubState,
    uri: &url::Url,
) -> Result<Option<statuses::StatusRow>, InboxError> {
    match ingest::note_by_uri(state, uri, 1).await? {
        Some(id) => Ok(statuses::find_by_id(&state.db, id).await?),
        None => Ok(None),
    }
}
