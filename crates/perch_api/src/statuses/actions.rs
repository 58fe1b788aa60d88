//! Deleting one's status; liking and reblogging, and taking either back.
//! Repeating an action changes nothing and answers as the first time did.

use axum::Json;
use axum::extract::{Path, State};
use perch_apub::notes::load_status_note;
use perch_apub::publish::actor_ref;
use perch_core::id::Id;
use perch_core::outbound::{Outbound, Reaction};
use perch_core::status::Visibility;
use perch_core::time::now_millis;
use perch_db::accounts::{self, AccountRow};
use perch_db::favourites;
use perch_db::live::LiveEvent;
use perch_db::notifications;
use perch_db::statuses::{self, NewStatus, StatusRow};
use serde::Deserialize;

use super::view::render_one;
use super::{publish_in, readable, signed_in};
use crate::auth::Auth;
use crate::entities::status::Status;
use crate::params::Params;
use crate::{ApiError, ApiState};

/// `DELETE /api/v1/statuses/:id`: answers with the status as it was, its
/// source text included (clients offer "delete and redraft").
pub async fn delete(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let row = readable(&state, &id, me.id).await?;
    if row.account_id != me.id {
        return Err(ApiError::not_found());
    }
    let mut rendered = render_one(&state, me.id, &row).await?;
    rendered.text = row.source_text.clone();
    let apub = &state.federation;
    let note = load_status_note(&state.db, &apub.layout, &state.config.domain, &row).await?;
    let mut tx = state.db.begin().await?;
    statuses::delete(&mut tx, row.id).await?;
    if let Some(note) = note {
        if row.reblog_of_id.is_none() {
            publish_in(&state, &mut tx, Outbound::DeleteStatus(Box::new(note))).await?;
        }
    }
    tx.commit().await?;
    state.federation.delivery_wake.notify_one();
    let live = [LiveEvent::StatusDeleted(row.id)];
    state.federation.bus.publish(&live).await;
    Ok(Json(rendered))
}

/// A status someone acts on, with its author.
async fn target(
    state: &ApiState,
    id: &str,
    me: &AccountRow,
) -> Result<(StatusRow, AccountRow), ApiError> {
    let mut status = readable(state, id, me.id).await?;
    // Acting on a reblog acts on the original.
    if let Some(original) = status.reblog_of_id {
        status = statuses::find_readable(&state.db, original, me.id)
            .await?
            .ok_or_else(ApiError::not_found)?;
    }
    let author = accounts::find_by_id(&state.db, Id::from_i64(status.account_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((status, author))
}

fn reaction(
    uri: String,
    me: &AccountRow,
    status: &StatusRow,
    author: &AccountRow,
    visibility: Visibility,
    published: i64,
) -> Reaction {
    Reaction {
        uri,
        actor: actor_ref(me),
        actor_followers_url: me
            .followers_url
            .clone()
            .unwrap_or_else(|| format!("{}/followers", me.uri)),
        status_uri: status.uri.clone(),
        status_author: actor_ref(author),
        visibility,
        published,
    }
}

async fn answer(state: &ApiState, me: &AccountRow, id: i64) -> Result<Json<Status>, ApiError> {
    let row = statuses::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(render_one(state, me.id, &row).await?))
}

/// `POST /api/v1/statuses/:id/favourite`.
pub async fn favourite(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:favourites"]).await?;
    let (status, author) = target(&state, &id, &me).await?;
    let now = now_millis();
    let like_id = state.ids.next_id().as_i64();
    let uri = state.federation.layout.activity_uri(like_id);
    let mut live = Vec::new();
    let mut tx = state.db.begin().await?;
    if favourites::insert(&mut tx, like_id, me.id, status.id, Some(&uri), now).await? {
        live.extend(
            notifications::notify(
                &mut tx,
                state.ids.next_id().as_i64(),
                author.id,
                me.id,
                "favourite",
                Some(status.id),
                now,
            )
            .await?,
        );
        if author.domain.is_some() {
            let visibility = Visibility::from_i16(status.visibility);
            let like = reaction(uri, &me, &status, &author, visibility, now);
            publish_in(&state, &mut tx, Outbound::Like(like)).await?;
        }
    }
    tx.commit().await?;
    state.federation.delivery_wake.notify_one();
    state.federation.bus.publish(&live).await;
    answer(&state, &me, status.id).await
}

/// `POST /api/v1/statuses/:id/unfavourite`.
pub async fn unfavourite(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:favourites"]).await?;
    let (status, author) = target(&state, &id, &me).await?;
    let mut tx = state.db.begin().await?;
    if let Some(like) = favourites::delete(&mut tx, me.id, status.id).await? {
        notifications::retract(&mut tx, author.id, me.id, "favourite", Some(status.id)).await?;
        if author.domain.is_some() {
            let uri = like
                .uri
                .clone()
                .unwrap_or_else(|| state.federation.layout.activity_uri(like.id));
            let visibility = Visibility::from_i16(status.visibility);
            let undo = reaction(uri, &me, &status, &author, visibility, like.created_at);
            publish_in(&state, &mut tx, Outbound::UndoLike(undo)).await?;
        }
    }
    tx.commit().await?;
    state.federation.delivery_wake.notify_one();
    answer(&state, &me, status.id).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ReblogParams {
    visibility: Option<String>,
}

/// `POST /api/v1/statuses/:id/reblog`: answers with the reblog, which
/// embeds the original.
pub async fn reblog(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<ReblogParams>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let (status, author) = target(&state, &id, &me).await?;
    let original_visibility = Visibility::from_i16(status.visibility);
    // Only public statuses travel further; one's own private status may be
    // reblogged to one's own followers, who could see it anyway.
    let own_private = original_visibility == Visibility::Private && author.id == me.id;
    if !original_visibility.is_public() && !own_private {
        return Err(ApiError::forbidden("This action is not allowed"));
    }
    if let Some(existing) = statuses::find_reblog(&state.db, me.id, status.id).await? {
        return answer(&state, &me, existing.id).await;
    }
    let asked = match params.visibility.as_deref() {
        None | Some("") => Visibility::Public,
        Some(v) => v
            .parse::<Visibility>()
            .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))?,
    };
    // A reblog is never wider than the original.
    let visibility = asked.max(original_visibility);
    let visibility = if visibility == Visibility::Direct {
        Visibility::Private
    } else {
        visibility
    };
    let now = now_millis();
    let reblog_id = state.ids.next_id().as_i64();
    let uri = format!(
        "{}/activity",
        state.federation.layout.status_uri(&me.username, reblog_id)
    );
    let new = NewStatus {
        id: reblog_id,
        account_id: me.id,
        uri: uri.clone(),
        url: None,
        content: String::new(),
        source_text: None,
        spoiler_text: String::new(),
        sensitive: false,
        visibility: visibility.as_i16(),
        language: None,
        local: true,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        in_reply_to_uri: None,
        reblog_of_id: Some(status.id),
        created_at: now,
    };
    let mut live = vec![LiveEvent::StatusCreated(reblog_id)];
    let mut tx = state.db.begin().await?;
    if !statuses::insert(&mut tx, &new, &[], &[]).await? {
        return Err(ApiError::unprocessable(
            "Validation failed: Reblog of status already exists",
        ));
    }
    statuses::fan_out(&mut tx, reblog_id, me.id, true, &[]).await?;
    live.extend(
        notifications::notify(
            &mut tx,
            state.ids.next_id().as_i64(),
            author.id,
            me.id,
            "reblog",
            Some(status.id),
            now,
        )
        .await?,
    );
    let announce = reaction(uri, &me, &status, &author, visibility, now);
    publish_in(&state, &mut tx, Outbound::Announce(announce)).await?;
    tx.commit().await?;
    state.federation.delivery_wake.notify_one();
    state.federation.bus.publish(&live).await;
    answer(&state, &me, reblog_id).await
}

/// `POST /api/v1/statuses/:id/unreblog`: answers with the original.
pub async fn unreblog(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let (status, author) = target(&state, &id, &me).await?;
    if let Some(existing) = statuses::find_reblog(&state.db, me.id, status.id).await? {
        let mut tx = state.db.begin().await?;
        statuses::delete(&mut tx, existing.id).await?;
        notifications::retract(&mut tx, author.id, me.id, "reblog", Some(status.id)).await?;
        let visibility = Visibility::from_i16(existing.visibility);
        let undo = reaction(
            existing.uri.clone(),
            &me,
            &status,
            &author,
            visibility,
            existing.created_at,
        );
        publish_in(&state, &mut tx, Outbound::UndoAnnounce(undo)).await?;
        tx.commit().await?;
        state.federation.delivery_wake.notify_one();
        let live = [LiveEvent::StatusDeleted(existing.id)];
        state.federation.bus.publish(&live).await;
    }
    answer(&state, &me, status.id).await
}
