//! Create, Update and Delete of notes, and Delete of an actor, received.
//!
//! A note is stored when someone here has a reason to see it: a local
//! account follows its author, it mentions or addresses a local account, or
//! it answers a local status. Replies bring their parent chain (fetched, a
//! bounded number of levels) so threads assemble.

use perch_core::status::Visibility;
use perch_core::time::now_millis;
use perch_db::accounts::{self, AccountRow};
use perch_db::actors;
use perch_db::follows;
use perch_db::live::LiveEvent;
use perch_db::notifications;
use perch_db::statuses::{self, Edit, NewStatus, StatusRow};
use serde_json::Value;
use url::Url;

use super::{InboxError, Verified};
use crate::ApubState;
use crate::objects::note::{ReceivedNote, id_of, parse_note, visibility_of};
use crate::objects::person::authority;
use crate::resolve::{self, ResolveError};

/// How many levels of parents a reply brings with it.
const MAX_PARENT_DEPTH: usize = 8;
/// Attachments kept of a remote status (referenced by URL, not copied).
const MAX_REMOTE_ATTACHMENTS: usize = 8;

/// A remote attachment as stored: its URL is the origin's.
fn remote_media(
    id: i64,
    account_id: i64,
    status_id: i64,
    attachment: &crate::objects::note::ReceivedAttachment,
    now: i64,
) -> perch_db::media::MediaRow {
    let media_type = attachment.media_type.clone();
    let kind = match media_type.as_deref().and_then(|t| t.split('/').next()) {
        Some("image") => "image",
        Some("video") => "video",
        Some("audio") => "audio",
        _ => "unknown",
    };
    let description = attachment
        .description
        .as_deref()
        .map(|d| d.chars().take(1500).collect::<String>());
    perch_db::media::MediaRow {
        id,
        account_id,
        status_id: Some(status_id),
        kind: kind.to_owned(),
        content_type: media_type,
        url: attachment.url.clone(),
        preview_url: (kind == "image").then(|| attachment.url.clone()),
        remote_url: Some(attachment.url.clone()),
        file_size: None,
        width: attachment.width,
        height: attachment.height,
        preview_width: None,
        preview_height: None,
        blurhash: attachment.blurhash.clone().filter(|b| b.len() <= 100),
        description,
        focus_x: None,
        focus_y: None,
        created_at: now,
        updated_at: now,
    }
}

fn internal(error: impl std::fmt::Display) -> InboxError {
    InboxError::Internal(error.to_string())
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
        .map_err(|e| InboxError::Forbidden(format!("cannot fetch the object: {e}")))
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

/// Local accounts among `uris` (mentions and addressees).
async fn local_accounts(state: &ApubState, uris: &[&str]) -> Result<Vec<AccountRow>, InboxError> {
    let mut found = Vec::new();
    for uri in uris {
        let ours = Url::parse(uri)
            .ok()
            .and_then(|u| authority(&u))
            .is_some_and(|a| a == state.config.domain);
        if !ours {
            continue;
        }
        if let Some(row) = actors::find_by_uri(&state.db, uri).await? {
            if row.domain.is_none() && !found.iter().any(|f: &AccountRow| f.id == row.id) {
                found.push(row);
            }
        }
    }
    Ok(found)
}

/// Everyone a note names: mentions, then addressees.
fn named(note: &ReceivedNote) -> Vec<&str> {
    note.mentions
        .iter()
        .map(Url::as_str)
        .chain(note.to.iter().map(String::as_str))
        .chain(note.cc.iter().map(String::as_str))
        .collect()
}

/// Local accounts a note mentions or addresses.
pub(crate) async fn local_accounts_named(
    state: &ApubState,
    note: &ReceivedNote,
) -> Result<Vec<AccountRow>, InboxError> {
    local_accounts(state, &named(note)).await
}

pub async fn receive_create(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let is_chat_message = activity.activity["object"]["type"] == "ChatMessage";
    let Some(note) = note_of(state, &activity).await? else {
        return Ok(());
    };
    let author = accounts::find_by_id(
        &state.db,
        perch_core::id::Id::from_i64(activity.actor_account_id),
    )
    .await?
    .ok_or_else(|| internal("the sender vanished"))?;
    if is_chat_message {
        return super::chat::receive_message(state, &note, &author, &activity, true).await;
    }
    if visibility_of(&note, author.followers_url.as_deref()) == Visibility::Direct {
        // A direct note to one local account is also a chat message.
        super::chat::receive_message(state, &note, &author, &activity, false).await?;
    }
    if !wanted(state, &note, &author).await? {
        tracing::debug!(note = %note.id, "nobody here follows or is addressed; not stored");
        return Ok(());
    }
    store_note(state, note, &author, Some(&activity), 0).await?;
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
    if !local_accounts(state, &named(note)).await?.is_empty() {
        return Ok(true);
    }
    if let Some(parent) = &note.in_reply_to {
        if let Some(row) = statuses::find_by_uri(&state.db, parent.as_str()).await? {
            return Ok(row.local);
        }
    }
    Ok(false)
}

/// Store a received note (and, first, its parents). `received` is the
/// activity that brought it, recorded in the same transaction so that a
/// redelivery is not applied twice. Returns the stored status.
pub(crate) async fn store_note(
    state: &ApubState,
    note: ReceivedNote,
    author: &AccountRow,
    received: Option<&Verified>,
    depth: usize,
) -> Result<Option<StatusRow>, InboxError> {
    if let Some(existing) = statuses::find_by_uri(&state.db, note.id.as_str()).await? {
        return Ok(Some(existing));
    }
    let parent = match &note.in_reply_to {
        Some(uri) => match statuses::find_by_uri(&state.db, uri.as_str()).await? {
            Some(row) => Some(row),
            None if depth < MAX_PARENT_DEPTH => {
                match Box::pin(note_by_uri(state, uri, depth + 1)).await {
                    Ok(row) => row,
                    Err(error) => {
                        tracing::info!(parent = %uri, %error, "the parent could not be fetched");
                        None
                    }
                }
            }
            None => None,
        },
        None => None,
    };
    let mut mentioned: Vec<AccountRow> = Vec::new();
    for href in &note.mentions {
        if let Some(row) = actors::find_by_uri(&state.db, href.as_str()).await? {
            if !mentioned.iter().any(|m| m.id == row.id) {
                mentioned.push(row);
            }
        }
    }
    // Addressed local accounts read the note even without a Mention tag.
    for row in local_accounts(state, &named(&note)).await? {
        if !mentioned.iter().any(|m| m.id == row.id) {
            mentioned.push(row);
        }
    }
    let visibility = visibility_of(&note, author.followers_url.as_deref());
    let now = now_millis();
    let id = state.ids.next_id().as_i64();
    let new = NewStatus {
        id,
        account_id: author.id,
        uri: note.id.to_string(),
        url: note.url.clone(),
        content: note.content.clone(),
        source_text: None,
        spoiler_text: note.spoiler_text.clone(),
        sensitive: note.sensitive,
        visibility: visibility.as_i16(),
        language: note.language.clone(),
        local: false,
        in_reply_to_id: parent.as_ref().map(|p| p.id),
        in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
        in_reply_to_uri: note.in_reply_to.as_ref().map(Url::to_string),
        reblog_of_id: None,
        created_at: note.published.filter(|p| *p <= now).unwrap_or(now),
    };
    let mention_ids: Vec<i64> = mentioned.iter().map(|m| m.id).collect();
    let tags: Vec<(i64, String)> = note
        .hashtags
        .iter()
        .map(|t| (state.ids.next_id().as_i64(), t.to_lowercase()))
        .collect();
    let local_mentioned: Vec<i64> = mentioned
        .iter()
        .filter(|m| m.domain.is_none())
        .map(|m| m.id)
        .collect();
    let mut live = vec![LiveEvent::StatusCreated(id)];
    let mut tx = state.db.begin().await?;
    if let Some(activity) = received {
        if !actors::record_received(&mut tx, activity.id.as_str(), author.id, now).await? {
            return Ok(None);
        }
    }
    if !statuses::insert(&mut tx, &new, &mention_ids, &tags).await? {
        drop(tx);
        return Ok(statuses::find_by_uri(&state.db, note.id.as_str()).await?);
    }
    for attachment in note.attachments.iter().take(MAX_REMOTE_ATTACHMENTS) {
        let row = remote_media(state.ids.next_id().as_i64(), author.id, id, attachment, now);
        perch_db::media::create_remote(&mut tx, &row).await?;
    }
    let addressed = if matches!(visibility, Visibility::Private | Visibility::Direct) {
        local_mentioned.clone()
    } else {
        Vec::new()
    };
    statuses::fan_out(
        &mut tx,
        id,
        author.id,
        visibility != Visibility::Direct,
        &addressed,
    )
    .await?;
    for account_id in local_mentioned {
        live.extend(
            notifications::notify(
                &mut tx,
                state.ids.next_id().as_i64(),
                account_id,
                author.id,
                "mention",
                Some(id),
                now,
            )
            .await?,
        );
    }
    tx.commit().await?;
    state.bus.publish(&live).await;
    Ok(statuses::find_by_id(&state.db, id).await?)
}

/// Store a post read from its author's outbox, without its parents.
/// False when it was known already.
pub async fn store_backfilled(
    state: &ApubState,
    note: ReceivedNote,
    author: &AccountRow,
) -> Result<bool, InboxError> {
    if statuses::find_by_uri(&state.db, note.id.as_str())
        .await?
        .is_some()
    {
        return Ok(false);
    }
    Ok(store_note(state, note, author, None, MAX_PARENT_DEPTH)
        .await?
        .is_some())
}

/// A status by its id: stored already, or fetched with its author (and
/// their parents, to `depth`) and stored.
pub(crate) async fn note_by_uri(
    state: &ApubState,
    uri: &Url,
    depth: usize,
) -> Result<Option<StatusRow>, InboxError> {
    if let Some(row) = statuses::find_by_uri(&state.db, uri.as_str()).await? {
        return Ok(Some(row));
    }
    let object = match resolve::fetch_object(state, uri).await {
        Ok(object) => object,
        Err(ResolveError::Local) => return Ok(None),
        Err(error) => {
            return Err(InboxError::Forbidden(format!(
                "cannot fetch {uri}: {error}"
            )));
        }
    };
    let note = parse_note(&object).map_err(|e| InboxError::Malformed(e.to_string()))?;
    // Served by its own origin under its own id (checked by the fetch); its
    // author must be on that origin too.
    if authority(&note.attributed_to) != authority(uri) {
        return Err(InboxError::Forbidden(
            "the note's author is on another server".to_owned(),
        ));
    }
    let (author, _) = resolve::actor_by_uri(state, &note.attributed_to)
        .await
        .map_err(|e| InboxError::Forbidden(format!("cannot resolve the author: {e}")))?;
    store_note(state, note, &author, None, depth).await
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
                .map_err(|e| InboxError::Forbidden(format!("cannot refresh the actor: {e}")))?;
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
    let mut mention_ids = Vec::new();
    for href in &note.mentions {
        if let Some(row) = actors::find_by_uri(&state.db, href.as_str()).await? {
            mention_ids.push(row.id);
        }
    }
    for row in local_accounts(state, &named(&note)).await? {
        if !mention_ids.contains(&row.id) {
            mention_ids.push(row.id);
        }
    }
    let now = now_millis();
    let edit = Edit {
        edit_id: state.ids.next_id().as_i64(),
        content: note.content,
        source_text: None,
        spoiler_text: note.spoiler_text,
        sensitive: note.sensitive,
        language: note.language,
        edited_at: note.updated.filter(|u| *u <= now).unwrap_or(now),
    };
    let tags: Vec<(i64, String)> = note
        .hashtags
        .iter()
        .map(|t| (state.ids.next_id().as_i64(), t.to_lowercase()))
        .collect();
    let rebloggers = statuses::rebloggers(&state.db, current.id).await?;
    let mut live = vec![LiveEvent::StatusUpdated(current.id)];
    let mut tx = state.db.begin().await?;
    if !actors::record_received(&mut tx, activity.id.as_str(), current.account_id, now).await? {
        return Ok(());
    }
    statuses::edit(&mut tx, &current, &edit, &mention_ids, &tags).await?;
    for account_id in rebloggers {
        live.extend(
            notifications::notify(
                &mut tx,
                state.ids.next_id().as_i64(),
                account_id,
                current.account_id,
                "update",
                Some(current.id),
                now,
            )
            .await?,
        );
    }
    tx.commit().await?;
    state.bus.publish(&live).await;
    Ok(())
}

/// Delete of a status, or of the actor itself (then everything of theirs
/// goes).
pub async fn receive_delete(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = id_of(&activity.activity["object"])
        .ok_or_else(|| InboxError::Malformed("Delete without an object".to_owned()))?;
    let now = now_millis();
    if object == activity.actor {
        let mut tx = state.db.begin().await?;
        accounts::purge_remote(&mut tx, activity.actor_account_id).await?;
        tx.commit().await?;
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
    let mut tx = state.db.begin().await?;
    if !actors::record_received(&mut tx, activity.id.as_str(), row.account_id, now).await? {
        return Ok(());
    }
    statuses::delete(&mut tx, row.id).await?;
    tx.commit().await?;
    state.bus.publish(&[LiveEvent::StatusDeleted(row.id)]).await;
    Ok(())
}
