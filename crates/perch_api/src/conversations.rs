//! Direct conversations, as Mastodon serves them: `GET
//! /api/v1/conversations` (newest status first, paged by its id with
//! `Link` headers), `DELETE /api/v1/conversations/:id` (gone for this
//! account only) and `POST /api/v1/conversations/:id/read`. They are filed
//! by perch_domain's `conversations` as direct statuses come and go; the
//! same entity is what the `direct` stream sends as `conversation`.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use perch_db::accounts;
use perch_db::conversations::{self, ConversationRow};
use perch_db::statuses;
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::entities::account::{Account, account_from_row};
use crate::entities::status::Status;
use crate::pagination::{PageParams, keyed_page};
use crate::params::Query;
use crate::statuses::view::render;
use crate::{ApiError, ApiState};

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 40;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/conversations", get(index))
        .route("/api/v1/conversations/{id}", delete(remove))
        .route("/api/v1/conversations/{id}/read", post(read))
}

/// Mastodon's Conversation: the other participants (the account itself
/// when it wrote to nobody else) and the newest status, as its account
/// sees it.
#[derive(Debug, Serialize)]
pub struct Conversation {
    pub id: String,
    pub unread: bool,
    pub accounts: Vec<Account>,
    pub last_status: Option<Status>,
}

/// `rows` of `viewer`'s, rendered in order, their accounts and statuses
/// read once for all.
pub async fn render_many(
    state: &ApiState,
    viewer: i64,
    rows: &[ConversationRow],
) -> Result<Vec<Conversation>, ApiError> {
    let mut account_ids: Vec<i64> = rows
        .iter()
        .flat_map(ConversationRow::participants)
        .collect();
    account_ids.push(viewer);
    account_ids.sort_unstable();
    account_ids.dedup();
    let people: HashMap<i64, Account> = accounts::find_many(&state.db, &account_ids)
        .await?
        .iter()
        .map(|row| (row.id, account_from_row(row, &state.config.public_url)))
        .collect();
    let status_ids: Vec<i64> = rows.iter().map(|r| r.last_status_id).collect();
    let mut status_rows = statuses::find_many(&state.db, &status_ids).await?;
    status_rows.sort_by_key(|row| std::cmp::Reverse(row.id));
    let mut rendered: HashMap<String, Status> = render(state, viewer, &status_rows)
        .await?
        .into_iter()
        .map(|status| (status.id.clone(), status))
        .collect();
    Ok(rows
        .iter()
        .map(|row| {
            let mut participants: Vec<Account> = row
                .participants()
                .iter()
                .filter_map(|id| people.get(id).cloned())
                .collect();
            if participants.is_empty() {
                participants.extend(people.get(&viewer).cloned());
            }
            Conversation {
                id: row.id.to_string(),
                unread: row.unread,
                accounts: participants,
                last_status: rendered.remove(&row.last_status_id.to_string()),
            }
        })
        .collect())
}

/// The signed-in account's conversation the path names, rendered.
async fn one(state: &ApiState, me: i64, id: i64) -> Result<Conversation, ApiError> {
    let row = conversations::find(&state.db, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    render_many(state, me, std::slice::from_ref(&row))
        .await?
        .pop()
        .ok_or_else(ApiError::not_found)
}

fn id_of(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found())
}

/// `GET /api/v1/conversations`.
async fn index(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require_any(&["read:statuses"])?;
    let me = auth.account_id()?;
    let page = params.page(DEFAULT_LIMIT, MAX_LIMIT);
    let rows = conversations::page(&state.db, me, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.last_status_id).collect();
    let items = render_many(&state, me, &rows).await?;
    Ok(keyed_page(
        &state.config.public_url,
        "/api/v1/conversations",
        &keys,
        items,
        page.limit,
    ))
}

/// `POST /api/v1/conversations/:id/read`: the conversation, read.
async fn read(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Conversation>, ApiError> {
    auth.require_any(&["write:conversations"])?;
    let me = auth.account_id()?;
    let id = id_of(&id)?;
    if !conversations::mark_read(&state.db, me, id).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(one(&state, me, id).await?))
}

/// `DELETE /api/v1/conversations/:id`: answers `{}`.
async fn remove(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:conversations"])?;
    let me = auth.account_id()?;
    if !conversations::remove(&state.db, me, id_of(&id)?).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(json!({})))
}

/// The conversation `id` of `account_id`'s as the `direct` stream sends
/// it, or None when it is gone or its newest status is not for it to see.
pub async fn for_stream(
    state: &ApiState,
    account_id: i64,
    id: i64,
) -> Result<Option<Conversation>, ApiError> {
    let Some(row) = conversations::find(&state.db, account_id, id).await? else {
        return Ok(None);
    };
    if statuses::find_readable(&state.db, row.last_status_id, account_id)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    Ok(render_many(state, account_id, std::slice::from_ref(&row))
        .await?
        .pop())
}
