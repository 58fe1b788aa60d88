//! The parts of Mastodon's admin API that Perch has: approving sign-ups.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use perch_core::id::Id;
use perch_core::time::now_millis;
use perch_db::{accounts, users};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::entities::account::account_from_row;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/admin/accounts/{id}/approve", post(approve))
}

/// The caller must be an administrator using a token with `scope`.
async fn require_admin(state: &ApiState, auth: &Auth, scope: &str) -> Result<(), ApiError> {
    auth.require(scope)?;
    let caller = users::find_by_account_id(&state.db, auth.account_id()?).await?;
    if caller.is_some_and(|user| user.admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("This action is not allowed"))
    }
}

/// `POST /api/v1/admin/accounts/:id/approve`: answers Mastodon's
/// Admin::Account shape in brief (id, username, domain, approved, account).
async fn approve(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&state, &auth, "admin:write:accounts").await?;
    let id: Id = id.parse().map_err(|_| ApiError::not_found())?;
    let user = users::find_by_account_id(&state.db, id.as_i64())
        .await?
        .ok_or_else(ApiError::not_found)?;
    if user.approved {
        return Err(ApiError::forbidden("This account is already approved"));
    }
    users::approve(&state.db, id.as_i64(), now_millis()).await?;
    let row = accounts::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({
        "id": row.id.to_string(),
        "username": row.username,
        "domain": null,
        "email": user.email,
        "approved": true,
        "confirmed": true,
        "disabled": user.disabled_at.is_some(),
        "account": account_from_row(&row, &state.config.public_url),
    })))
}
