//! Statuses through the client API: posting, editing and deleting one's
//! own; reading, liking and reblogging what one may see; their polls;
//! statuses scheduled for later.
//!
//! Handlers parse, authorise and render; every change is a call into
//! perch_domain (`statuses`, `reactions`), the same functions the inbox
//! calls for remote statuses.

mod actions;
mod compose;
mod create;
pub mod filtering;
mod polls;
mod read;
pub mod scheduled;
pub mod view;

pub(crate) use create::{default_visibility, is_language_code};

use axum::Router;
use axum::routing::{get, post};
use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::statuses::{self, StatusRow};

use crate::auth::Auth;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .merge(scheduled::routes())
        .route("/api/v1/statuses", post(create::create).get(read::index))
        .route(
            "/api/v1/statuses/{id}",
            get(read::show).delete(actions::delete).put(create::edit),
        )
        .route("/api/v1/statuses/{id}/context", get(read::context))
        .route("/api/v1/statuses/{id}/history", get(read::history))
        .route("/api/v1/statuses/{id}/source", get(read::source))
        .route(
            "/api/v1/statuses/{id}/favourited_by",
            get(read::favourited_by),
        )
        .route(
            "/api/v1/statuses/{id}/reblogged_by",
            get(read::reblogged_by),
        )
        .route("/api/v1/statuses/{id}/favourite", post(actions::favourite))
        .route(
            "/api/v1/statuses/{id}/unfavourite",
            post(actions::unfavourite),
        )
        .route("/api/v1/statuses/{id}/pin", post(actions::pin))
        .route("/api/v1/statuses/{id}/unpin", post(actions::unpin))
        .route("/api/v1/statuses/{id}/mute", post(actions::mute))
        .route("/api/v1/statuses/{id}/unmute", post(actions::unmute))
        .route("/api/v1/statuses/{id}/bookmark", post(actions::bookmark))
        .route(
            "/api/v1/statuses/{id}/unbookmark",
            post(actions::unbookmark),
        )
        .route("/api/v1/statuses/{id}/reblog", post(actions::reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(actions::unreblog))
        .route("/api/v1/polls/{id}", get(polls::show))
        .route("/api/v1/polls/{id}/votes", post(polls::vote))
}

/// The status the path names, if `viewer` (0: nobody) may read it.
async fn readable(state: &ApiState, id: &str, viewer: i64) -> Result<StatusRow, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    statuses::find_readable(&state.db, id, viewer)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The signed-in account, with a token holding one of `scopes`.
async fn signed_in(state: &ApiState, auth: &Auth, scopes: &[&str]) -> Result<AccountRow, ApiError> {
    auth.require_any(scopes)?;
    let id = auth.account_id()?;
    accounts::find_by_id(&state.db, Id::from_i64(id))
        .await?
        .ok_or_else(ApiError::not_found)
}
