//! Deleting one's status; liking and reblogging, and taking either back;
//! muting a conversation; bookmarking.
//! Repeating an action changes nothing and answers as the first time did.

use axum::Json;
use axum::extract::{Path, State};
use perch_core::status::Visibility;
use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::bookmarks;
use perch_db::statuses::{self, StatusRow};
use perch_domain::reactions;
use serde::Deserialize;

use super::view::render_one;
use super::{readable, signed_in};
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
    perch_domain::statuses::delete(&state.domain, &row, &me, None).await?;
    Ok(Json(rendered))
}

/// The status someone acts on: acting on a reblog acts on the original.
async fn target(state: &ApiState, id: &str, me: &AccountRow) -> Result<StatusRow, ApiError> {
    let status = readable(state, id, me.id).await?;
    match status.reblog_of_id {
        Some(original) => statuses::find_readable(&state.db, original, me.id)
            .await?
            .ok_or_else(ApiError::not_found),
        None => Ok(status),
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
    let status = target(&state, &id, &me).await?;
    reactions::favourite(&state.domain, &me, &status, None).await?;
    answer(&state, &me, status.id).await
}

/// `POST /api/v1/statuses/:id/unfavourite`.
pub async fn unfavourite(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:favourites"]).await?;
    let status = target(&state, &id, &me).await?;
    reactions::unfavourite(&state.domain, &me, &status, None).await?;
    answer(&state, &me, status.id).await
}

/// `POST /api/v1/statuses/:id/mute`: no more notifications about the
/// status's thread (its replies, likes and reblogs of its statuses).
pub async fn mute(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:mutes"]).await?;
    let status = target(&state, &id, &me).await?;
    perch_domain::blocks::mute_conversation(&state.domain, &me, &status).await?;
    answer(&state, &me, status.id).await
}

/// `POST /api/v1/statuses/:id/unmute`.
pub async fn unmute(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:mutes"]).await?;
    let status = target(&state, &id, &me).await?;
    perch_domain::blocks::unmute_conversation(&state.domain, &me, &status).await?;
    answer(&state, &me, status.id).await
}

/// `POST /api/v1/statuses/:id/pin`: shown at the top of one's profile;
/// one's own statuses only, at most five.
pub async fn pin(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:accounts"]).await?;
    let status = target(&state, &id, &me).await?;
    perch_domain::pins::pin(&state.domain, &me, &status).await?;
    answer(&state, &me, status.id).await
}

/// `POST /api/v1/statuses/:id/unpin`.
pub async fn unpin(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:accounts"]).await?;
    let status = target(&state, &id, &me).await?;
    perch_domain::pins::unpin(&state.domain, &me, &status).await?;
    answer(&state, &me, status.id).await
}

/// `POST /api/v1/statuses/:id/bookmark`: kept to read later, privately.
pub async fn bookmark(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:bookmarks"]).await?;
    let status = target(&state, &id, &me).await?;
    let bookmark_id = state.ids.next_id().as_i64();
    bookmarks::bookmark(&state.db, bookmark_id, me.id, status.id, now_millis()).await?;
    answer(&state, &me, status.id).await
}

/// `POST /api/v1/statuses/:id/unbookmark`.
pub async fn unbookmark(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:bookmarks"]).await?;
    let status = target(&state, &id, &me).await?;
    bookmarks::unbookmark(&state.db, me.id, status.id).await?;
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
    let status = target(&state, &id, &me).await?;
    if reactions::reblog_visibility(&me, &status, Visibility::Public).is_none() {
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
    let visibility = reactions::reblog_visibility(&me, &status, asked)
        .ok_or_else(|| ApiError::forbidden("This action is not allowed"))?;
    match reactions::reblog(&state.domain, &me, &status, visibility, None).await? {
        Some(reblog_id) => answer(&state, &me, reblog_id).await,
        None => Err(ApiError::unprocessable(
            "Validation failed: Reblog of status already exists",
        )),
    }
}

/// `POST /api/v1/statuses/:id/unreblog`: answers with the original.
pub async fn unreblog(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let status = target(&state, &id, &me).await?;
    if let Some(existing) = statuses::find_reblog(&state.db, me.id, status.id).await? {
        reactions::unreblog(&state.domain, &existing, Some(&status), &me, None).await?;
    }
    answer(&state, &me, status.id).await
}
