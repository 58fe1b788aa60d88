//! Featured hashtags, as Mastodon serves them: `GET|POST
//! /api/v1/featured_tags`, `DELETE /api/v1/featured_tags/:id`,
//! `GET /api/v1/featured_tags/suggestions` (one's most used hashtags) and
//! `GET /api/v1/accounts/:id/featured_tags` (anyone's, public).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{delete, get};
use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::featured_tags::{self, FeaturedTagRow};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::params::Params;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/featured_tags", get(mine).post(feature))
        .route("/api/v1/featured_tags/suggestions", get(suggestions))
        .route("/api/v1/featured_tags/{id}", delete(unfeature))
        .route("/api/v1/accounts/{id}/featured_tags", get(of_account))
}

/// Mastodon's FeaturedTag: `url` is the account's page of the tag, and
/// `last_status_at` a date.
fn entity(state: &ApiState, owner: &AccountRow, row: &FeaturedTagRow) -> Value {
    let base = state.config.public_url.as_str().trim_end_matches('/');
    json!({
        "id": row.id.to_string(),
        "name": row.name,
        "url": format!("{base}/@{}/tagged/{}", owner.username, row.name),
        "statuses_count": row.statuses_count,
        "last_status_at": row.last_status_at.map(|at| {
            chrono::DateTime::from_timestamp_millis(at)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        }),
    })
}

async fn me(state: &ApiState, auth: &Auth) -> Result<AccountRow, ApiError> {
    accounts::find_by_id(&state.db, Id::from_i64(auth.account_id()?))
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn list(state: &ApiState, owner: &AccountRow) -> Result<Vec<Value>, ApiError> {
    Ok(featured_tags::of_account(&state.db, owner.id)
        .await?
        .iter()
        .map(|row| entity(state, owner, row))
        .collect())
}

/// `GET /api/v1/featured_tags`.
async fn mine(State(state): State<ApiState>, auth: Auth) -> Result<Json<Vec<Value>>, ApiError> {
    auth.require_any(&["read:accounts", "read"])?;
    let me = me(&state, &auth).await?;
    Ok(Json(list(&state, &me).await?))
}

#[derive(Debug, Deserialize)]
pub struct FeatureParams {
    name: Option<String>,
}

/// `POST /api/v1/featured_tags` with `name`.
async fn feature(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<FeatureParams>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:accounts", "write"])?;
    let me = me(&state, &auth).await?;
    let name = perch_domain::featured_tags::feature(
        &state.domain,
        &me,
        params.name.as_deref().unwrap_or_default(),
    )
    .await?;
    let rows = featured_tags::of_account(&state.db, me.id).await?;
    let row = rows
        .iter()
        .find(|row| row.name == name)
        .ok_or_else(|| ApiError::internal(&"the featured tag was not kept"))?;
    Ok(Json(entity(&state, &me, row)))
}

/// `DELETE /api/v1/featured_tags/:id`: answers `{}`.
async fn unfeature(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:accounts", "write"])?;
    let me = me(&state, &auth).await?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    if !featured_tags::remove(&state.db, me.id, id).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(json!({})))
}

/// `GET /api/v1/featured_tags/suggestions`: Tag entities.
async fn suggestions(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<Vec<Value>>, ApiError> {
    auth.require_any(&["read:accounts", "read"])?;
    let me = me(&state, &auth).await?;
    let names = featured_tags::most_used(&state.db, me.id, 10).await?;
    let items = names.into_iter().map(crate::tags::TagItem::named).collect();
    Ok(Json(crate::tags::entities(&state, me.id, items).await?))
}

/// `GET /api/v1/accounts/:id/featured_tags`.
async fn of_account(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let id: Id = id.parse().map_err(|_| ApiError::not_found())?;
    let owner = accounts::find_by_id(&state.db, id)
        .await?
        .filter(|row| row.suspended_at.is_none() && row.deleted_at.is_none())
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(list(&state, &owner).await?))
}
