//! Like and Announce received, and their Undo.
//!
//! Likes count only on local statuses: a remote status's count is its own
//! server's to keep. Announces of local statuses are counted and notified;
//! announces of remote statuses are stored (fetching the original when it
//! is not known) when the announcer has local followers, so their home
//! feeds show them.

use perch_core::status::Visibility;
use perch_db::favourites;
use perch_db::follows;
use perch_db::statuses;
use serde_json::Value;

use super::note::{sender, status_by_uri};
use super::{InboxError, Verified};
use crate::ApubState;
use crate::activities::PUBLIC;
use crate::objects::note::id_of;

pub async fn receive_like(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = id_of(&activity.activity["object"])
        .ok_or_else(|| InboxError::Malformed("Like without an object".to_owned()))?;
    let Some(status) = statuses::find_by_uri(&state.db, object.as_str()).await? else {
        return Ok(());
    };
    // Only a local status the liker may see is counted.
    if !status.local
        || status.reblog_of_id.is_some()
        || statuses::find_readable(&state.db, status.id, activity.actor_account_id)
            .await?
            .is_none()
    {
        return Ok(());
    }
    let liker = sender(state, &activity).await?;
    let received = activity.received();
    perch_domain::reactions::favourite(&state.domain, &liker, &status, Some(&received)).await?;
    Ok(())
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
            match status_by_uri(state, &object).await? {
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
    if !original_visibility.is_public() || original.reblog_of_id.is_some() {
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
    let booster = sender(state, &activity).await?;
    let received = activity.received();
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
        None => match object.get("object").and_then(id_of) {
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
    let liker = sender(state, &activity).await?;
    let received = activity.received();
    perch_domain::reactions::unfavourite(&state.domain, &liker, &status, Some(&received)).await?;
    Ok(())
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
    let booster = sender(state, &activity).await?;
    let received = activity.received();
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
