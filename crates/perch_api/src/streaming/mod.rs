//! Mastodon's streaming API over WebSocket: `GET /api/v1/streaming`, with
//! the access token in the `Authorization` header, the `access_token` query
//! parameter or the offered `Sec-WebSocket-Protocol` (echoed back, as
//! browsers and Node clients require), an optional first stream in the
//! query (`stream`, `tag`, `list`), and `subscribe` / `unsubscribe` frames after.
//!
//! Chat rides the same connections (see `frames`): a client that
//! reconnects with `last_seq` (the `seq` of the last event it saw) first
//! receives what it missed, in order.
//!
//! [`hub`] turns live events into frames; [`session`] runs connections.

mod filters;
mod frames;
mod hub;
mod queue;
mod session;
mod streams;

use std::collections::HashMap;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::header::SEC_WEBSOCKET_PROTOCOL;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub use hub::hub;
pub use session::{
    ACCESS_CHECKED_EVERY, CLOSE_ACCESS_ENDED, CLOSE_TOO_SLOW, MAX_SUBSCRIPTIONS, QUEUE_CAPACITY,
    Registry,
};
use streams::Grants;
pub use streams::Stream;

use crate::auth::Auth;
use crate::auth::extract::{authenticate, bearer_token};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/streaming", get(connect))
        .route("/api/v1/streaming/health", get(health))
}

/// `GET /api/v1/streaming/health`: `OK` while the server streams.
async fn health() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain"),
        )],
        "OK",
    )
        .into_response()
}

/// The token, from wherever the client put it, and whether it came as the
/// WebSocket protocol (which must then be echoed).
fn token_of<'a>(
    parts: &'a Parts,
    query: &'a HashMap<String, String>,
) -> Result<(Option<String>, bool), ApiError> {
    if let Some(token) = bearer_token(parts)? {
        return Ok((Some(token.to_owned()), false));
    }
    if let Some(token) = query.get("access_token").filter(|t| !t.is_empty()) {
        return Ok((Some(token.clone()), false));
    }
    let offered = parts
        .headers
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').map(str::trim).find(|p| !p.is_empty()));
    Ok((offered.map(str::to_owned), offered.is_some()))
}

/// A connection needs a scope for something it could read.
fn reading_scopes(auth: &Auth) -> Result<(), ApiError> {
    auth.require_any(&["read:statuses", "read:notifications", "read:chats"])
}

async fn connect(
    State(state): State<ApiState>,
    Query(query): Query<HashMap<String, String>>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (mut parts, _body) = request.into_parts();
    let (token, as_protocol) = token_of(&parts, &query)?;
    let auth = match &token {
        Some(token) => {
            let auth = authenticate(&state, token).await?;
            reading_scopes(&auth)?;
            Some(auth)
        }
        None => None,
    };
    let account_id = auth.as_ref().and_then(|auth| auth.account_id);
    let grants = auth
        .as_ref()
        .map_or_else(Grants::anonymous, |auth| Grants::of(&auth.scopes));
    let access = auth.as_ref().map(|auth| session::Access {
        session_id: auth.session_id,
        expires_at: auth.expires_at,
    });
    let account = match account_id {
        Some(id) => {
            perch_db::accounts::find_by_id(&state.db, perch_core::id::Id::from_i64(id)).await?
        }
        None => None,
    };
    let last_seq = match query.get("last_seq") {
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::bad_request("last_seq is not a number"))?,
        ),
        None => None,
    };
    let initial = match query.get("stream") {
        Some(name) => {
            let stream = Stream::parse(
                name,
                query.get("tag").map(String::as_str),
                query.get("list").map(String::as_str),
            )
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
            if stream.is_private() && account_id.is_none() {
                return Err(ApiError::unauthorized("Missing access token"));
            }
            if let (Stream::List(list), Some(me)) = (&stream, account_id) {
                if perch_db::lists::find(&state.db, *list, me).await?.is_none() {
                    return Err(ApiError::not_found());
                }
            }
            if !grants.may_subscribe(&stream) {
                return Err(ApiError::forbidden(session::OUTSIDE_SCOPES));
            }
            let names = stream.names_as_asked(query.get("tag").map(String::as_str));
            Some((stream, names))
        }
        None => None,
    };
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &state)
        .await
        .map_err(|rejection| ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
    let upgrade = match (as_protocol, token) {
        (true, Some(token)) => upgrade.protocols([token]),
        _ => upgrade,
    };
    let signed_in = account.as_ref().map(|a| a.id);
    let registered = session::register(&state, signed_in, grants, access, initial, last_seq).await;
    let opening = session::Opening {
        account,
        last_seq,
        registered,
    };
    let begun = Box::new((state, opening));
    Ok(upgrade
        .read_buffer_size(session::READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(session::MAX_WRITE_BUFFER)
        .max_message_size(session::MAX_CLIENT_FRAME)
        .max_frame_size(session::MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| session::run(socket, begun)))
}
