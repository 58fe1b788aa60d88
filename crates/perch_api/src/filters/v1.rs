//! `/api/v1/filters`, kept for older apps: each v1 filter is one keyword
//! of a filter, known by the keyword's id (see perch_domain's `filters`).

use axum::Json;
use axum::extract::{Path, State};
use perch_domain::filters::{self as domain, V1Changes};
use serde_json::{Value, json};

use super::{expires_in, flag, path_id, reader, text, texts, writer};
use crate::auth::Auth;
use crate::entities::filter::{V1Filter, v1_filters};
use crate::params::{Params, nested};
use crate::{ApiError, ApiState};

fn changes(params: &Value) -> Result<V1Changes, ApiError> {
    Ok(V1Changes {
        phrase: text(params, "phrase"),
        context: texts(params, "context"),
        irreversible: flag(params, "irreversible")?,
        whole_word: flag(params, "whole_word")?,
        expires_in: expires_in(params)?,
    })
}

/// The v1 filter `id` (a keyword's id) of the account's.
async fn find(state: &ApiState, me: i64, id: i64) -> Result<V1Filter, ApiError> {
    let filter_id = perch_db::filters::filter_of_keyword(&state.db, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let filter = perch_db::filters::find(&state.db, me, filter_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let wanted = id.to_string();
    v1_filters(&filter)
        .into_iter()
        .find(|f| f.id == wanted)
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/filters`: every keyword of every filter, as v1 filters.
pub async fn list(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<Vec<V1Filter>>, ApiError> {
    let me = reader(&auth)?;
    let filters = perch_db::filters::of_account(&state.db, me, None).await?;
    Ok(Json(filters.iter().flat_map(v1_filters).collect()))
}

/// `POST /api/v1/filters`: `phrase`, `context[]`, `irreversible`,
/// `whole_word`, `expires_in`.
pub async fn create(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<Value>,
) -> Result<Json<V1Filter>, ApiError> {
    let me = writer(&auth)?;
    let id = domain::create_v1(&state.domain, me, changes(&nested(params))?).await?;
    Ok(Json(find(&state, me, id).await?))
}

/// `GET /api/v1/filters/:id`.
pub async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<V1Filter>, ApiError> {
    let me = reader(&auth)?;
    Ok(Json(find(&state, me, path_id(&id)?).await?))
}

/// `PUT /api/v1/filters/:id`.
pub async fn update(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<Value>,
) -> Result<Json<V1Filter>, ApiError> {
    let me = writer(&auth)?;
    let id = path_id(&id)?;
    domain::update_v1(&state.domain, me, id, changes(&nested(params))?).await?;
    Ok(Json(find(&state, me, id).await?))
}

/// `DELETE /api/v1/filters/:id`: answers `{}`.
pub async fn delete(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = writer(&auth)?;
    domain::delete_v1(&state.domain, me, path_id(&id)?).await?;
    Ok(Json(json!({})))
}
