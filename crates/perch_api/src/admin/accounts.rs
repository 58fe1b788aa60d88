//! `/api/v1/admin/accounts`: what a moderator does with accounts: list and
//! show them, approve or reject sign-ups, and take Mastodon's actions
//! (sensitive, disable, silence, suspend) and undo them. The rules are
//! perch_domain's `moderation`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_core::id::Id;
use perch_core::role::permission::MANAGE_USERS;
use perch_db::accounts::{self, AccountRow};
use perch_db::moderation::{self, AccountFilter};
use perch_domain::moderation::{self as moderation_domain, Action, Undo};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{admin_account, require_role};
use crate::auth::Auth;
use crate::pagination::{PageParams, keyed_page};
use crate::params::{Params, Query, lenient_bool};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/admin/accounts", get(list))
        .route("/api/v1/admin/accounts/{id}", get(show))
        .route("/api/v1/admin/accounts/{id}/approve", post(approve))
        .route("/api/v1/admin/accounts/{id}/reject", post(reject))
        .route("/api/v1/admin/accounts/{id}/action", post(action))
        .route("/api/v1/admin/accounts/{id}/unsilence", post(unsilence))
        .route("/api/v1/admin/accounts/{id}/unsuspend", post(unsuspend))
        .route("/api/v1/admin/accounts/{id}/enable", post(enable))
        .route("/api/v1/admin/accounts/{id}/unsensitive", post(unsensitive))
}

/// Mastodon's v1 filters.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    suspended: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    silenced: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pending: Option<bool>,
    username: Option<String>,
    by_domain: Option<String>,
}

/// `GET /api/v1/admin/accounts`: newest first, with Mastodon's `Link`
/// header.
async fn list(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    require_role(&state, &auth, "admin:read:accounts", MANAGE_USERS).await?;
    let local = match (params.local, params.remote) {
        (Some(true), _) => Some(true),
        (_, Some(true)) => Some(false),
        _ => None,
    };
    let filter = AccountFilter {
        local,
        suspended: params.suspended.unwrap_or(false),
        silenced: params.silenced.unwrap_or(false),
        disabled: params.disabled.unwrap_or(false),
        pending: params.pending.unwrap_or(false),
        username: params.username.filter(|u| !u.is_empty()),
        domain: params
            .by_domain
            .filter(|d| !d.is_empty())
            .map(|d| d.to_ascii_lowercase()),
    };
    let page = params.page.page(100, 200);
    let rows = moderation::page(&state.db, &filter, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push(admin_account(&state, row).await?);
    }
    Ok(keyed_page(
        &state.config.public_url,
        "/api/v1/admin/accounts",
        &keys,
        items,
        page.limit,
    ))
}

async fn account_by_path(state: &ApiState, id: &str) -> Result<AccountRow, ApiError> {
    let id: Id = id.parse().map_err(|_| ApiError::not_found())?;
    accounts::find_by_id(&state.db, id)
        .await?
        .filter(|row| row.actor_type != "Application")
        .ok_or_else(ApiError::not_found)
}

async fn answer(state: &ApiState, id: i64) -> Result<Json<Value>, ApiError> {
    let row = accounts::find_by_id(&state.db, Id::from_i64(id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(admin_account(state, &row).await?))
}

/// `GET /api/v1/admin/accounts/:id`.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &auth, "admin:read:accounts", MANAGE_USERS).await?;
    let row = account_by_path(&state, &id).await?;
    Ok(Json(admin_account(&state, &row).await?))
}

/// `POST /api/v1/admin/accounts/:id/approve`: lets a sign-up waiting for
/// approval sign in.
async fn approve(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &auth, "admin:write:accounts", MANAGE_USERS).await?;
    let row = account_by_path(&state, &id).await?;
    moderation_domain::approve(&state.domain, row.id).await?;
    answer(&state, row.id).await
}

/// `POST /api/v1/admin/accounts/:id/reject`: removes a sign-up waiting for
/// approval; answers its Admin::Account as it was.
async fn reject(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &auth, "admin:write:accounts", MANAGE_USERS).await?;
    let row = account_by_path(&state, &id).await?;
    let shown = admin_account(&state, &row).await?;
    moderation_domain::reject(&state.domain, row.id).await?;
    Ok(Json(shown))
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    report_id: Option<String>,
    /// The moderator's note; kept in the logs only.
    text: Option<String>,
}

/// `POST /api/v1/admin/accounts/:id/action`: answers `{}`.
async fn action(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<ActionParams>,
) -> Result<Json<Value>, ApiError> {
    let (me, role) = require_role(&state, &auth, "admin:write:accounts", MANAGE_USERS).await?;
    let target = account_by_path(&state, &id).await?;
    let action = params
        .kind
        .as_deref()
        .and_then(Action::parse)
        .ok_or_else(|| {
            ApiError::unprocessable(
                "Validation failed: type must be none, sensitive, disable, silence or suspend",
            )
        })?;
    let report_id = match params.report_id.as_deref().filter(|r| !r.is_empty()) {
        Some(id) => Some(id.parse::<i64>().map_err(|_| ApiError::not_found())?),
        None => None,
    };
    moderation_domain::act(&state.domain, &me, role, &target, action, report_id).await?;
    // The inbox reads suspended actors from memory: read them again.
    state.federation.federation_policy.reload(&state.db).await?;
    tracing::info!(
        moderator = me.id,
        account = target.id,
        ?action,
        note = params.text.as_deref().unwrap_or_default(),
        "moderation action"
    );
    Ok(Json(json!({})))
}

async fn undo(
    state: ApiState,
    auth: Auth,
    id: String,
    undo: Undo,
) -> Result<Json<Value>, ApiError> {
    let (me, role) = require_role(&state, &auth, "admin:write:accounts", MANAGE_USERS).await?;
    let target = account_by_path(&state, &id).await?;
    moderation_domain::undo(&state.domain, &me, role, &target, undo).await?;
    state.federation.federation_policy.reload(&state.db).await?;
    answer(&state, target.id).await
}

/// `POST /api/v1/admin/accounts/:id/unsilence`.
async fn unsilence(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    undo(state, auth, id, Undo::Unsilence).await
}

/// `POST /api/v1/admin/accounts/:id/unsuspend`.
async fn unsuspend(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    undo(state, auth, id, Undo::Unsuspend).await
}

/// `POST /api/v1/admin/accounts/:id/enable`.
async fn enable(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    undo(state, auth, id, Undo::Enable).await
}

/// `POST /api/v1/admin/accounts/:id/unsensitive`.
async fn unsensitive(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    undo(state, auth, id, Undo::Unsensitive).await
}
