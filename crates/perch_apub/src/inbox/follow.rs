//! Follow, Accept / Reject of our Follow, and Undo of a Follow, received.

use perch_core::id::Id;
use perch_core::outbound::Outbound;
use perch_core::time::now_millis;
use perch_db::accounts::{self, AccountRow};
use perch_db::actors;
use perch_db::follows::{self, Kind, NewFollow};
use perch_db::notifications::{self, NewNotification};
use serde_json::Value;
use url::Url;

use super::{InboxError, Verified};
use crate::ApubState;
use crate::publish::{self, actor_ref};

/// The id of an object given by id or embedded.
fn object_id(object: &Value) -> Option<Url> {
    match object {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        _ => None,
    }
}

async fn account(state: &ApubState, id: i64) -> Result<AccountRow, InboxError> {
    accounts::find_by_id(&state.db, Id::from_i64(id))
        .await?
        .ok_or_else(|| InboxError::Internal(format!("account {id} vanished")))
}

/// Someone asks to follow a local account: a follow request when the
/// account is locked, otherwise a follow, answered with an Accept.
pub async fn receive_follow(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let target_uri = object_id(&activity.activity["object"])
        .ok_or_else(|| InboxError::Malformed("Follow without an object".to_owned()))?;
    let target = match actors::find_by_uri(&state.db, target_uri.as_str()).await? {
        Some(row) if row.domain.is_none() && row.actor_type != "Application" => row,
        // Not one of ours: nothing to do, and nothing to tell.
        _ => return Ok(()),
    };
    let follower = account(state, activity.actor_account_id).await?;
    let now = now_millis();
    // Read before the transaction: a transaction that waits for a second
    // pool connection can starve the pool under load.
    let already = follows::find(&state.db, Kind::Follow, follower.id, target.id)
        .await?
        .is_some();
    let mut tx = state.db.begin().await?;
    if !actors::record_received(&mut tx, activity.id.as_str(), follower.id, now).await? {
        return Ok(());
    }
    let follow = NewFollow {
        id: state.ids.next_id().as_i64(),
        account_id: follower.id,
        target_account_id: target.id,
        uri: Some(activity.id.to_string()),
        created_at: now,
    };
    let requested = target.locked && !already;
    let mut live = Vec::new();
    let notification = NewNotification {
        id: state.ids.next_id().as_i64(),
        account_id: target.id,
        from_account_id: follower.id,
        kind: if requested {
            "follow_request"
        } else {
            "follow"
        },
        status_id: None,
        created_at: now,
    };
    if !already {
        live.extend(notifications::insert(&mut tx, &notification).await?);
    }
    if requested {
        follows::insert_request(&mut tx, &follow).await?;
    } else {
        follows::insert_follow(&mut tx, &follow).await?;
        let accept = Outbound::AcceptFollow {
            follow_uri: activity.id.to_string(),
            follower: actor_ref(&follower),
            target: actor_ref(&target),
        };
        publish::enqueue(&mut tx, &state.ids, &state.layout, &accept)
            .await
            .map_err(|e| InboxError::Internal(e.to_string()))?;
    }
    tx.commit().await?;
    state.delivery_wake.notify_one();
    state.bus.publish(&live).await;
    Ok(())
}

/// An answer to a Follow we sent. Only the followed actor may answer.
pub async fn receive_answer(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = &activity.activity["object"];
    let follow_id = object_id(object)
        .ok_or_else(|| InboxError::Malformed("answer without an object".to_owned()))?;
    let accept = activity.kind == "Accept";
    // By the Follow's id; servers that rewrite it are matched by the pair of
    // actors in the embedded Follow.
    let mut request = follows::find_by_uri(&state.db, Kind::Request, follow_id.as_str()).await?;
    let mut existing = follows::find_by_uri(&state.db, Kind::Follow, follow_id.as_str()).await?;
    if request.is_none() && existing.is_none() {
        if let Some(follower_uri) = object.get("actor").and_then(Value::as_str) {
            if let Some(follower) = actors::find_by_uri(&state.db, follower_uri).await? {
                request = follows::find(
                    &state.db,
                    Kind::Request,
                    follower.id,
                    activity.actor_account_id,
                )
                .await?;
                existing = follows::find(
                    &state.db,
                    Kind::Follow,
                    follower.id,
                    activity.actor_account_id,
                )
                .await?;
            }
        }
    }
    let relation = request.as_ref().or(existing.as_ref());
    let Some(relation) = relation else {
        return Ok(());
    };
    if relation.target_account_id != activity.actor_account_id {
        return Err(InboxError::Forbidden(
            "only the followed actor may answer a Follow".to_owned(),
        ));
    }
    let (follower_id, target_id) = (relation.account_id, relation.target_account_id);
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
    if let Some(request) = &request {
        follows::delete_request(&mut tx, follower_id, target_id).await?;
        if accept {
            let follow = NewFollow {
                id: state.ids.next_id().as_i64(),
                account_id: follower_id,
                target_account_id: target_id,
                uri: request.uri.clone(),
                created_at: now,
            };
            follows::insert_follow(&mut tx, &follow).await?;
        }
    } else if !accept {
        // A Reject of an accepted follow: the followed actor removed us.
        follows::delete_follow(&mut tx, follower_id, target_id).await?;
    }
    tx.commit().await?;
    // The first follower here brings in the account's recent posts; for
    // later followers they are here already, and the follow merged them
    // into the new follower's home feed.
    if accept
        && request.is_some()
        && !follows::has_local_follower_besides(&state.db, target_id, follower_id).await?
    {
        let target = account(state, target_id).await?;
        crate::backfill::recent_posts(state, &target).await;
    }
    Ok(())
}

/// Undo of a Follow (or of a follow request). Only the follower may undo.
pub async fn receive_undo(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = &activity.activity["object"];
    let follow_id = object_id(object)
        .ok_or_else(|| InboxError::Malformed("Undo without an object".to_owned()))?;
    let mut relation =
        match follows::find_by_uri(&state.db, Kind::Follow, follow_id.as_str()).await? {
            Some(row) => Some(row),
            None => follows::find_by_uri(&state.db, Kind::Request, follow_id.as_str()).await?,
        };
    if relation.is_none() {
        if let Some(target_uri) = object.get("object").and_then(Value::as_str) {
            if let Some(target) = actors::find_by_uri(&state.db, target_uri).await? {
                relation = match follows::find(
                    &state.db,
                    Kind::Follow,
                    activity.actor_account_id,
                    target.id,
                )
                .await?
                {
                    Some(row) => Some(row),
                    None => {
                        follows::find(
                            &state.db,
                            Kind::Request,
                            activity.actor_account_id,
                            target.id,
                        )
                        .await?
                    }
                };
            }
        }
    }
    let Some(relation) = relation else {
        return Ok(());
    };
    if relation.account_id != activity.actor_account_id {
        return Err(InboxError::Forbidden(
            "only the follower may undo a Follow".to_owned(),
        ));
    }
    let mut tx = state.db.begin().await?;
    if !actors::record_received(
        &mut tx,
        activity.id.as_str(),
        activity.actor_account_id,
        now_millis(),
    )
    .await?
    {
        return Ok(());
    }
    follows::delete_follow(&mut tx, relation.account_id, relation.target_account_id).await?;
    follows::delete_request(&mut tx, relation.account_id, relation.target_account_id).await?;
    for kind in ["follow", "follow_request"] {
        notifications::retract(
            &mut tx,
            relation.target_account_id,
            relation.account_id,
            kind,
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
