//! `/api/v2/filters`: filters with their keywords and statuses, and the
//! nested `keywords` and `statuses` resources.

use axum::Json;
use axum::extract::{Path, State};
use perch_core::filter::Filter as CoreFilter;
use perch_domain::filters::{self as domain, FilterChanges, KeywordChange};
use serde_json::{Value, json};

use super::{expires_in, flag, id_param, path_id, reader, text, texts, writer};
use crate::auth::Auth;
use crate::entities::filter::{
    Filter, FilterKeyword, FilterStatus, filter_entity, filter_keyword, filter_status,
};
use crate::params::{Params, nested};
use crate::{ApiError, ApiState};

async fn find(state: &ApiState, me: i64, id: i64) -> Result<CoreFilter, ApiError> {
    perch_db::filters::find(&state.db, me, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The keyword changes of `keywords_attributes`: a list of objects, or an
/// object of them by index (`keywords_attributes[0][keyword]`).
fn keyword_changes(params: &Value) -> Result<Vec<KeywordChange>, ApiError> {
    let items: Vec<&Value> = match params.get("keywords_attributes") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(by_index)) => {
            let mut indexed: Vec<(i64, &Value)> = by_index
                .iter()
                .map(|(index, item)| (index.parse().unwrap_or(i64::MAX), item))
                .collect();
            indexed.sort_by_key(|(index, _)| *index);
            indexed.into_iter().map(|(_, item)| item).collect()
        }
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Validation failed: keywords_attributes must be a list",
            ));
        }
    };
    items
        .into_iter()
        .map(|item| {
            let id = match text(item, "id") {
                // An id that names no keyword of the filter is not found.
                Some(id) if !id.trim().is_empty() => Some(path_id(&id)?),
                _ => None,
            };
            Ok(KeywordChange {
                id,
                keyword: text(item, "keyword"),
                whole_word: flag(item, "whole_word")?,
                destroy: flag(item, "_destroy")?.unwrap_or(false),
            })
        })
        .collect()
}

fn filter_changes(params: &Value) -> Result<FilterChanges, ApiError> {
    Ok(FilterChanges {
        title: text(params, "title"),
        context: texts(params, "context"),
        action: text(params, "filter_action"),
        expires_in: expires_in(params)?,
        keywords: keyword_changes(params)?,
    })
}

/// `GET /api/v2/filters`: every filter of the account, expired ones too.
pub async fn list(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<Vec<Filter>>, ApiError> {
    let me = reader(&auth)?;
    let filters = perch_db::filters::of_account(&state.db, me, None).await?;
    Ok(Json(filters.iter().map(filter_entity).collect()))
}

/// `POST /api/v2/filters`: `title`, `context[]`, `filter_action`,
/// `expires_in` and `keywords_attributes[]`.
pub async fn create(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<Value>,
) -> Result<Json<Filter>, ApiError> {
    let me = writer(&auth)?;
    let changes = filter_changes(&nested(params))?;
    let id = domain::create(&state.domain, me, changes).await?;
    Ok(Json(filter_entity(&find(&state, me, id).await?)))
}

/// `GET /api/v2/filters/:id`.
pub async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Filter>, ApiError> {
    let me = reader(&auth)?;
    Ok(Json(filter_entity(&find(&state, me, path_id(&id)?).await?)))
}

/// `PUT /api/v2/filters/:id`: what is given changes, keywords included
/// (`keywords_attributes[]` with `id` to change one, and `_destroy` to
/// remove it).
pub async fn update(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<Value>,
) -> Result<Json<Filter>, ApiError> {
    let me = writer(&auth)?;
    let id = path_id(&id)?;
    let changes = filter_changes(&nested(params))?;
    domain::update(&state.domain, me, id, changes).await?;
    Ok(Json(filter_entity(&find(&state, me, id).await?)))
}

/// `DELETE /api/v2/filters/:id`: answers `{}`.
pub async fn delete(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = writer(&auth)?;
    domain::delete(&state.domain, me, path_id(&id)?).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v2/filters/:id/keywords`.
pub async fn keywords(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<FilterKeyword>>, ApiError> {
    let me = reader(&auth)?;
    let filter = find(&state, me, path_id(&id)?).await?;
    Ok(Json(filter.keywords.iter().map(filter_keyword).collect()))
}

fn keyword_change(params: &Value) -> Result<KeywordChange, ApiError> {
    Ok(KeywordChange {
        id: None,
        keyword: text(params, "keyword"),
        whole_word: flag(params, "whole_word")?,
        destroy: false,
    })
}

/// The keyword `id` of the account's filters.
async fn find_keyword(state: &ApiState, me: i64, id: i64) -> Result<FilterKeyword, ApiError> {
    let filter_id = perch_db::filters::filter_of_keyword(&state.db, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    find(state, me, filter_id)
        .await?
        .keywords
        .iter()
        .find(|k| k.id == id)
        .map(filter_keyword)
        .ok_or_else(ApiError::not_found)
}

/// `POST /api/v2/filters/:id/keywords`: `keyword`, `whole_word`.
pub async fn add_keyword(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<Value>,
) -> Result<Json<FilterKeyword>, ApiError> {
    let me = writer(&auth)?;
    let change = keyword_change(&nested(params))?;
    let keyword = domain::add_keyword(&state.domain, me, path_id(&id)?, change).await?;
    Ok(Json(find_keyword(&state, me, keyword).await?))
}

/// `GET /api/v2/filters/keywords/:id`.
pub async fn keyword(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<FilterKeyword>, ApiError> {
    let me = reader(&auth)?;
    Ok(Json(find_keyword(&state, me, path_id(&id)?).await?))
}

/// `PUT /api/v2/filters/keywords/:id`: `keyword`, `whole_word`.
pub async fn update_keyword(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<Value>,
) -> Result<Json<FilterKeyword>, ApiError> {
    let me = writer(&auth)?;
    let id = path_id(&id)?;
    let change = keyword_change(&nested(params))?;
    domain::update_keyword(&state.domain, me, id, change).await?;
    Ok(Json(find_keyword(&state, me, id).await?))
}

/// `DELETE /api/v2/filters/keywords/:id`: answers `{}`.
pub async fn delete_keyword(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = writer(&auth)?;
    domain::delete_keyword(&state.domain, me, path_id(&id)?).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v2/filters/:id/statuses`.
pub async fn statuses(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<FilterStatus>>, ApiError> {
    let me = reader(&auth)?;
    let filter = find(&state, me, path_id(&id)?).await?;
    Ok(Json(filter.statuses.iter().map(filter_status).collect()))
}

/// The filtered status `id` (a FilterStatus's id) of the account's filters.
async fn find_status(state: &ApiState, me: i64, id: i64) -> Result<FilterStatus, ApiError> {
    let filter_id = perch_db::filters::filter_of_status(&state.db, me, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    find(state, me, filter_id)
        .await?
        .statuses
        .iter()
        .find(|s| s.id == id)
        .map(filter_status)
        .ok_or_else(ApiError::not_found)
}

/// `POST /api/v2/filters/:id/statuses`: `status_id`.
pub async fn add_status(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<Value>,
) -> Result<Json<FilterStatus>, ApiError> {
    let me = writer(&auth)?;
    let filter_id = path_id(&id)?;
    let Some(status_id) = id_param(&nested(params), "status_id") else {
        return Err(ApiError::unprocessable(
            "Validation failed: Status must exist",
        ));
    };
    let row = domain::add_status(&state.domain, me, filter_id, status_id).await?;
    Ok(Json(find_status(&state, me, row).await?))
}

/// `GET /api/v2/filters/statuses/:id`.
pub async fn status(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<FilterStatus>, ApiError> {
    let me = reader(&auth)?;
    Ok(Json(find_status(&state, me, path_id(&id)?).await?))
}

/// `DELETE /api/v2/filters/statuses/:id`: answers `{}`.
pub async fn delete_status(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = writer(&auth)?;
    domain::delete_status(&state.domain, me, path_id(&id)?).await?;
    Ok(Json(json!({})))
}
