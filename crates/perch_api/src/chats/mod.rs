//! One-to-one chats, through a REST API in the shape of Pleroma's (which
//! chat clients already speak) and through WebSocket frames (see
//! `streaming`). What both do (send, acknowledge, delete) is
//! perch_domain's `chats`, which the inbox calls for remote messages too.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::chats::{self, ChatRow};
use perch_db::presence;
use serde::Deserialize;

use crate::auth::Auth;
use crate::entities::account::account_from_row;
use crate::entities::chat::{Chat, ChatMessage, chat_message};
use crate::entities::iso8601_millis;
use crate::pagination::{PageParams, link_header, paged_json};
use crate::params::{Params, Query, lenient_bool};
use crate::{ApiError, ApiState};

use perch_domain::chats::{self as chats_domain, Body, Receipt};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/pleroma/chats/by-account-id/{id}", post(open))
        .route("/api/v1/pleroma/chats", get(list))
        .route("/api/v1/pleroma/chats/{id}", get(show))
        .route(
            "/api/v1/pleroma/chats/{id}/messages",
            get(messages).post(send),
        )
        .route("/api/v1/pleroma/chats/{id}/read", post(read))
        .route(
            "/api/v1/pleroma/chats/{id}/messages/{message_id}",
            delete(remove),
        )
        .route("/api/v1/perch/presence", put(set_presence))
}

async fn me(state: &ApiState, auth: &Auth, write: bool) -> Result<AccountRow, ApiError> {
    auth.require(if write { "write:chats" } else { "read:chats" })?;
    accounts::find_by_id(&state.db, Id::from_i64(auth.account_id()?))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// A chat of `me`'s by id, with the other member.
pub async fn chat_of(
    state: &ApiState,
    me: &AccountRow,
    id: &str,
) -> Result<(ChatRow, AccountRow), ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let chat = chats::find(&state.db, id)
        .await?
        .filter(|c| c.has_member(me.id))
        .ok_or_else(ApiError::not_found)?;
    let other = accounts::find_by_id(&state.db, Id::from_i64(chat.other(me.id)))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((chat, other))
}

async fn render_chat(
    state: &ApiState,
    me: &AccountRow,
    chat: &ChatRow,
    other: &AccountRow,
) -> Result<Chat, ApiError> {
    let last_message = match chat.last_message_id {
        Some(id) => chats::find_message(&state.db, id)
            .await?
            .map(|m| chat_message(&m, me.id)),
        None => None,
    };
    Ok(Chat {
        id: chat.id.to_string(),
        account: account_from_row(other, &state.config.public_url),
        unread: chats::unread_count(&state.db, chat.id, me.id).await?,
        last_message,
        updated_at: iso8601_millis(chat.updated_at),
    })
}

/// `POST /api/v1/pleroma/chats/by-account-id/:id`: the chat with that
/// account, created on first use.
async fn open(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Chat>, ApiError> {
    let me = me(&state, &auth, true).await?;
    let other_id: Id = id.parse().map_err(|_| ApiError::not_found())?;
    let other = accounts::find_by_id(&state.db, other_id)
        .await?
        .filter(|a| a.id != me.id && a.actor_type != "Application")
        .ok_or_else(ApiError::not_found)?;
    let chat = chats_domain::open(&state.domain, &me, &other).await?;
    Ok(Json(render_chat(&state, &me, &chat, &other).await?))
}

/// `GET /api/v1/pleroma/chats`: chats with messages, most recent first.
async fn list(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = me(&state, &auth, false).await?;
    let page = params.page(20, 80);
    let rows = chats::list(&state.db, me.id, &page).await?;
    let mut rendered = Vec::with_capacity(rows.len());
    for chat in &rows {
        if let Some(other) =
            accounts::find_by_id(&state.db, Id::from_i64(chat.other(me.id))).await?
        {
            rendered.push(render_chat(&state, &me, chat, &other).await?);
        }
    }
    let base = format!("{}api/v1/pleroma/chats", state.config.public_url);
    let bounds = rows
        .first()
        .zip(rows.last())
        .and_then(|(n, o)| n.last_message_id.zip(o.last_message_id));
    Ok(paged_json(
        rendered,
        link_header(&base, "", bounds, rows.len(), page.limit),
    ))
}

/// `GET /api/v1/pleroma/chats/:id`.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Chat>, ApiError> {
    let me = me(&state, &auth, false).await?;
    let (chat, other) = chat_of(&state, &me, &id).await?;
    Ok(Json(render_chat(&state, &me, &chat, &other).await?))
}

/// `GET /api/v1/pleroma/chats/:id/messages`: newest first. Fetching them
/// is a device of the reader receiving them: they become delivered.
async fn messages(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = me(&state, &auth, false).await?;
    let (chat, other) = chat_of(&state, &me, &id).await?;
    let page = params.page(20, 80);
    let mut rows = chats::messages(&state.db, chat.id, &page).await?;
    let newest_theirs = rows
        .iter()
        .filter(|m| m.sender_id != me.id && m.delivered_at.is_none())
        .map(|m| m.id)
        .max();
    if let Some(up_to) = newest_theirs {
        let changed =
            chats_domain::acknowledge(&state.domain, &me, &other, &chat, up_to, Receipt::Delivered)
                .await?;
        for row in rows.iter_mut() {
            if let Some(updated) = changed.iter().find(|c| c.id == row.id) {
                *row = updated.clone();
            }
        }
    }
    let base = format!(
        "{}api/v1/pleroma/chats/{}/messages",
        state.config.public_url, chat.id
    );
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.id, o.id));
    let link = link_header(&base, "", bounds, rows.len(), page.limit);
    let rendered: Vec<ChatMessage> = rows.iter().map(|m| chat_message(m, me.id)).collect();
    Ok(paged_json(rendered, link))
}

#[derive(Debug, Default, Deserialize)]
struct SendParams {
    content: Option<String>,
    media_id: Option<String>,
}

/// `POST /api/v1/pleroma/chats/:id/messages`; an `Idempotency-Key` header
/// makes a retried request return the first message.
async fn send(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    Params(params): Params<SendParams>,
) -> Result<Json<ChatMessage>, ApiError> {
    let me = me(&state, &auth, true).await?;
    let (chat, other) = chat_of(&state, &me, &id).await?;
    if params.media_id.is_some() {
        return Err(ApiError::unprocessable(
            "Validation failed: attachments in chats are not supported",
        ));
    }
    let client_id = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let body = Body::Text {
        text: params.content.as_deref().unwrap_or_default(),
        client_id,
    };
    let sent = chats_domain::send(&state.domain, &me, &other, &chat, body).await?;
    if sent.message.chat_id != chat.id {
        return Err(ApiError::unprocessable(
            "Validation failed: that idempotency key was used in another chat",
        ));
    }
    Ok(Json(chat_message(&sent.message, me.id)))
}

#[derive(Debug, Default, Deserialize)]
struct ReadParams {
    last_read_id: Option<String>,
}

/// `POST /api/v1/pleroma/chats/:id/read`: everything up to `last_read_id`
/// (all, without it) is seen.
async fn read(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<ReadParams>,
) -> Result<Json<Chat>, ApiError> {
    let me = me(&state, &auth, true).await?;
    let (chat, other) = chat_of(&state, &me, &id).await?;
    let up_to = match params.last_read_id.as_deref() {
        Some(text) => text
            .parse()
            .map_err(|_| ApiError::unprocessable("Validation failed: last_read_id is not an id"))?,
        None => i64::MAX,
    };
    chats_domain::acknowledge(&state.domain, &me, &other, &chat, up_to, Receipt::Seen).await?;
    Ok(Json(render_chat(&state, &me, &chat, &other).await?))
}

/// `DELETE /api/v1/pleroma/chats/:id/messages/:message_id`: one's own.
async fn remove(
    State(state): State<ApiState>,
    auth: Auth,
    Path((id, message_id)): Path<(String, String)>,
) -> Result<Json<ChatMessage>, ApiError> {
    let me = me(&state, &auth, true).await?;
    let (chat, other) = chat_of(&state, &me, &id).await?;
    let message_id: i64 = message_id.parse().map_err(|_| ApiError::not_found())?;
    let message = chats::find_message(&state.db, message_id)
        .await?
        .filter(|m| m.chat_id == chat.id && m.sender_id == me.id)
        .ok_or_else(ApiError::not_found)?;
    chats_domain::delete(&state.domain, &me, &other, &chat, &message).await?;
    Ok(Json(chat_message(&message, me.id)))
}

#[derive(Debug, Default, Deserialize)]
struct PresenceParams {
    #[serde(default, deserialize_with = "lenient_bool")]
    hidden: Option<bool>,
}

/// `PUT /api/v1/perch/presence`: hide (or show) one's presence from chat
/// partners.
async fn set_presence(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<PresenceParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:accounts")?;
    let me = auth.account_id()?;
    let hidden = params
        .hidden
        .ok_or_else(|| ApiError::unprocessable("Validation failed: hidden is required"))?;
    presence::set_hidden(&state.db, me, hidden).await?;
    Ok(Json(serde_json::json!({ "hidden": hidden })))
}
