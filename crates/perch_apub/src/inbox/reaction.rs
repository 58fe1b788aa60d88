//! Like and Announce received, and their Undo.
//!
//! Likes count only on local statuses: a remote status's count is its own
//! server's to keep. Announces of local statuses are counted and notified;
//! announces of remote statuses are stored (fetching the original when it
//! is not known) when the announcer has local followers, so their home
//! feeds show them.

use perch_core::status::Visibility;
use perch_core::time::now_millis;
use perch_db::actors;
use perch_db::favourites;
use perch_db::follows;
use perch_db::live::LiveEvent;
use perch_db::notifications;
use perch_db::statuses::{self, NewStatus, StatusRow};
use serde_json::Value;

use super::note::note_by_uri;
use super::{InboxError, Verified};
use crate::ApubState;
use crate::activities::PUBLIC;
use crate::objects::note::id_of;

async fn notify(
    state: &ApubState,
    tx: &mut perch_db::Tx,
    status: &StatusRow,
    from: i64,
    kind: &str,
) -> Result<Option<LiveEvent>, InboxError> {
    Ok(notifications::notify(
        tx,
        state.ids.next_id().as_i64(),
        status.account_id,
        from,
        kind,
        Some(status.id),
        now_millis(),
    )
    .await?)
}

pub async fn receive_like(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = id_of(&activity.activity["object"])
        .ok_or_else(|| InboxError::Malformed("Like without an object".to_owned()))?;
    let Some(status) = statuses::find_by_uri(&state.db, object.as_str()).await? else {
        return Ok(());
    };
    if !status.local || !readable_by_remote(state, &status, activity.actor_account_id).await? {
        return Ok(());
    }
    let now = now_millis();
    let mut tx = state.db.begin().await?;
    if !actors::record_received(
        &mut tx,
        activity.id.as_str(),
        activity.actor_account_id,
        now,
    )
    .await?
    {
        return Ok(());
    }
    let id = state.ids.next_id().as_i64();
    let liker = activity.actor_account_id;
    if favourites::insert(
        &mut tx,
        id,
        liker,
        status.id,
        Some(activity.id.as_str()),
        now,
    )
    .await?
    {
        notify(state, &mut tx, &status, liker, "favourite").await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether a remote account may see a local status: public, or it follows
/// the author (private), or it is mentioned.
async fn readable_by_remote(
    state: &ApubState,
    status: &StatusRow,
    account_id: i64,
) -> Result<bool, InboxError> {
    Ok(statuses::find_readable(&state.db, status.id, account_id)
        .await?
        .is_some())
}

pub async fn receive_announce(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = id_of(&activity.activity["object"])
        .ok_or_else(|| InboxError::Malformed("Announce without an object".to_owned()))?;
    let announcer = activity.actor_account_id;
    let original = match statuses::find_by_uri(&state.db, object.as_str()).await? {
        Some(row) => row,
        None => {
            if !follows::has_local_follower(&state.db, announcer).await? {
                return Ok(());
            }
            match note_by_uri(state, &object, 1).await? {
                Some(row) => row,
                None => return Ok(()),
            }
        }
    };
    if !original.local && !follows::has_local_follower(&state.db, announcer).await? {
        return Ok(());
    }
    let original_visibility = Visibility::from_i16(original.visibility);
    // Only what anyone may read can be announced.
    if !original_visibility.is_public() {
        return Ok(());
    }
    let is_public = |v: &Value| match v {
        Value::String(s) => s == PUBLIC,
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some(PUBLIC)),
        _ => false,
    };
    let visibility = if is_public(&activity.activity["to"]) {
        Visibility::Public
    } else {
        Visibility::Unlisted
    }
    .max(original_visibility);
    let now = now_millis();
    let id = state.ids.next_id().as_i64();
    let reblog = NewStatus {
        id,
        account_id: announcer,
        uri: activity.id.to_string(),
        url: None,
        content: String::new(),
        source_text: None,
        spoiler_text: String::new(),
        sensitive: false,
        visibility: visibility.as_i16(),
        language: None,
        local: false,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        in_reply_to_uri: None,
        reblog_of_id: Some(original.id),
        created_at: now,
    };
    let mut tx = state.db.begin().await?;
    if !actors::record_received(&mut tx, activity.id.as_str(), announcer, now).await? {
        return Ok(());
    }
    let mut live = Vec::new();
    if statuses::insert(&mut tx, &reblog, &[], &[]).await? {
        statuses::fan_out(&mut tx, id, announcer, true, &[]).await?;
        live.push(LiveEvent::StatusCreated(id));
        if original.local {
            live.extend(notify(state, &mut tx, &original, announcer, "reblog").await?);
        }
    }
    tx.commit().await?;
    state.bus.publish(&live).await;
    Ok(())
}

/// Undo of a Like: found by the Like's id, or by the embedded Like's object.
pub async fn receive_undo_like(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = &activity.activity["object"];
    let like_id =
        id_of(object).ok_or_else(|| InboxError::Malformed("Undo without an object".to_owned()))?;
    let liker = activity.actor_account_id;
    let status_id = match favourites::find_by_uri(&state.db, like_id.as_str()).await? {
        Some(like) if like.account_id == liker => Some(like.status_id),
        Some(_) => {
            return Err(InboxError::Forbidden(
                "only the liker may undo a Like".to_owned(),
            ));
        }
        None => match object.get("object").and_then(id_of_value) {
            Some(status_uri) => statuses::find_by_uri(&state.db, &status_uri)
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
    let mut tx = state.db.begin().await?;
    if !actors::record_received(&mut tx, activity.id.as_str(), liker, now_millis()).await? {
        return Ok(());
    }
    if favourites::delete(&mut tx, liker, status_id)
        .await?
        .is_some()
    {
        notifications::retract(
            &mut tx,
            status.account_id,
            liker,
            "favourite",
            Some(status_id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn id_of_value(value: &Value) -> Option<String> {
    id_of(value).map(|u| u.to_string())
}

/// Undo of an Announce: the reblog, by the Announce's id, goes.
pub async fn receive_undo_announce(
    state: &ApubState,
    activity: Verified,
) -> Result<(), InboxError> {
    let announce_id = id_of(&activity.activity["object"])
        .ok_or_else(|| InboxError::Malformed("Undo without an object".to_owned()))?;
    let Some(reblog) = statuses::find_by_uri(&state.db, announce_id.as_str()).await? else {
        return Ok(());
    };
    if reblog.account_id != activity.actor_account_id || reblog.reblog_of_id.is_none() {
        return Err(InboxError::Forbidden(
            "only the announcer may undo an Announce".to_owned(),
        ));
    }
    let original = match reblog.reblog_of_id {
        Some(id) => statuses::find_by_id(&state.db, id).await?,
        None => None,
    };
    let mut tx = state.db.begin().await?;
    if !actors::record_received(
        &mut tx,
        activity.id.as_str(),
        reblog.account_id,
        now_millis(),
    )
    .await?
    {
        return Ok(());
    }
    statuses::delete(&mut tx, reblog.id).await?;
    let live = [LiveEvent::StatusDeleted(reblog.id)];
    if let Some(original) = &original {
        notifications::retract(
            &mut tx,
            original.account_id,
            reblog.account_id,
            "reblog",
            Some(original.id),
        )
        .await?;
    }
    tx.commit().await?;
    state.bus.publish(&live).await;
    Ok(())
}
