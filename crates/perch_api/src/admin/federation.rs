//! `/api/v1/admin/domain_blocks` and `/api/v1/admin/domain_allows`: the
//! servers the instance blocks (severity noop, silence or suspend, media
//! and reports rejected or not) and, in allow-list mode, the only ones it
//! federates with. For admins (the manage-federation permission). Each
//! change is read again into this process's federation policy at once;
//! other processes read it within seconds.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use perch_core::federation::Severity;
use perch_core::role::permission::MANAGE_FEDERATION;
use perch_db::domain_blocks::{self, DomainAllowRow, DomainBlockRow};
use perch_domain::federation::{self as federation_domain, BlockSettings};
use serde::Deserialize;
use serde_json::{Value, json};

use super::require_role;
use crate::auth::Auth;
use crate::entities::iso8601_millis;
use crate::pagination::{PageParams, keyed_page};
use crate::params::{Params, Query, lenient_bool};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v1/admin/domain_blocks",
            get(list_blocks).post(create_block),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(show_block).put(update_block).delete(delete_block),
        )
        .route(
            "/api/v1/admin/domain_allows",
            get(list_allows).post(create_allow),
        )
        .route(
            "/api/v1/admin/domain_allows/{id}",
            get(show_allow).delete(delete_allow),
        )
}

/// SHA-256 of the domain, hex: Mastodon's `digest`, which lets others
/// match an obfuscated domain they know.
fn digest(domain: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, domain.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Mastodon's Admin::DomainBlock.
fn block_entity(row: &DomainBlockRow) -> Value {
    json!({
        "id": row.id.to_string(),
        "domain": row.domain,
        "digest": digest(&row.domain),
        "created_at": iso8601_millis(row.created_at),
        "severity": row.severity().as_str(),
        "reject_media": row.reject_media,
        "reject_reports": row.reject_reports,
        "private_comment": row.private_comment,
        "public_comment": row.public_comment,
        "obfuscate": row.obfuscate,
    })
}

/// Mastodon's Admin::DomainAllow.
fn allow_entity(row: &DomainAllowRow) -> Value {
    json!({
        "id": row.id.to_string(),
        "domain": row.domain,
        "created_at": iso8601_millis(row.created_at),
    })
}

/// The policy changed: read it again in this process.
async fn reload(state: &ApiState) -> Result<(), ApiError> {
    Ok(state.federation.federation_policy.reload(&state.db).await?)
}

#[derive(Debug, Default, Deserialize)]
pub struct BlockParams {
    domain: Option<String>,
    severity: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    reject_media: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    reject_reports: Option<bool>,
    private_comment: Option<String>,
    public_comment: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    obfuscate: Option<bool>,
}

impl BlockParams {
    /// The settings asked for, unset ones taken from `current` (or
    /// Mastodon's defaults: silence, nothing rejected).
    fn settings(&self, current: Option<&DomainBlockRow>) -> Result<BlockSettings, ApiError> {
        let severity = match self.severity.as_deref().filter(|s| !s.is_empty()) {
            Some(name) => name.parse::<Severity>().map_err(|_| {
                ApiError::unprocessable(
                    "Validation failed: severity must be noop, silence or suspend",
                )
            })?,
            None => current.map_or(Severity::Silence, DomainBlockRow::severity),
        };
        Ok(BlockSettings {
            severity,
            reject_media: self
                .reject_media
                .unwrap_or_else(|| current.is_some_and(|c| c.reject_media)),
            reject_reports: self
                .reject_reports
                .unwrap_or_else(|| current.is_some_and(|c| c.reject_reports)),
            private_comment: self
                .private_comment
                .clone()
                .or_else(|| current.map(|c| c.private_comment.clone()))
                .unwrap_or_default(),
            public_comment: self
                .public_comment
                .clone()
                .or_else(|| current.map(|c| c.public_comment.clone()))
                .unwrap_or_default(),
            obfuscate: self
                .obfuscate
                .unwrap_or_else(|| current.is_some_and(|c| c.obfuscate)),
        })
    }
}

/// `GET /api/v1/admin/domain_blocks`: newest first.
async fn list_blocks(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    require_role(&state, &auth, "admin:read:domain_blocks", MANAGE_FEDERATION).await?;
    let page = params.page(100, 200);
    let rows = domain_blocks::page(&state.db, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let items: Vec<Value> = rows.iter().map(block_entity).collect();
    Ok(keyed_page(
        &state.config.public_url,
        "/api/v1/admin/domain_blocks",
        &keys,
        items,
        page.limit,
    ))
}

async fn block_by_path(state: &ApiState, id: &str) -> Result<DomainBlockRow, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    domain_blocks::find(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `POST /api/v1/admin/domain_blocks`.
async fn create_block(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<BlockParams>,
) -> Result<Json<Value>, ApiError> {
    require_role(
        &state,
        &auth,
        "admin:write:domain_blocks",
        MANAGE_FEDERATION,
    )
    .await?;
    let domain = params
        .domain
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Domain can't be blank"))?;
    let settings = params.settings(None)?;
    let row = federation_domain::block(&state.domain, domain, &settings).await?;
    reload(&state).await?;
    Ok(Json(block_entity(&row)))
}

/// `GET /api/v1/admin/domain_blocks/:id`.
async fn show_block(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &auth, "admin:read:domain_blocks", MANAGE_FEDERATION).await?;
    Ok(Json(block_entity(&block_by_path(&state, &id).await?)))
}

/// `PUT /api/v1/admin/domain_blocks/:id`: the domain stays.
async fn update_block(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<BlockParams>,
) -> Result<Json<Value>, ApiError> {
    require_role(
        &state,
        &auth,
        "admin:write:domain_blocks",
        MANAGE_FEDERATION,
    )
    .await?;
    let row = block_by_path(&state, &id).await?;
    let settings = params.settings(Some(&row))?;
    let updated = federation_domain::update(&state.domain, &row, &settings).await?;
    reload(&state).await?;
    Ok(Json(block_entity(&updated)))
}

/// `DELETE /api/v1/admin/domain_blocks/:id`: answers `{}`.
async fn delete_block(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(
        &state,
        &auth,
        "admin:write:domain_blocks",
        MANAGE_FEDERATION,
    )
    .await?;
    let row = block_by_path(&state, &id).await?;
    federation_domain::unblock(&state.domain, &row).await?;
    reload(&state).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/admin/domain_allows`: every allowed server (they are few).
async fn list_allows(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<Vec<Value>>, ApiError> {
    require_role(&state, &auth, "admin:read:domain_allows", MANAGE_FEDERATION).await?;
    let rows = domain_blocks::all_allows(&state.db).await?;
    Ok(Json(rows.iter().rev().map(allow_entity).collect()))
}

#[derive(Debug, Default, Deserialize)]
pub struct AllowParams {
    domain: Option<String>,
}

/// `POST /api/v1/admin/domain_allows`: allowing again answers the same.
async fn create_allow(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<AllowParams>,
) -> Result<Json<Value>, ApiError> {
    require_role(
        &state,
        &auth,
        "admin:write:domain_allows",
        MANAGE_FEDERATION,
    )
    .await?;
    let domain = params
        .domain
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Domain can't be blank"))?;
    let row = federation_domain::allow(&state.domain, domain).await?;
    reload(&state).await?;
    Ok(Json(allow_entity(&row)))
}

async fn allow_by_path(state: &ApiState, id: &str) -> Result<DomainAllowRow, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    domain_blocks::find_allow(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/admin/domain_allows/:id`.
async fn show_allow(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &auth, "admin:read:domain_allows", MANAGE_FEDERATION).await?;
    Ok(Json(allow_entity(&allow_by_path(&state, &id).await?)))
}

/// `DELETE /api/v1/admin/domain_allows/:id`: answers `{}`.
async fn delete_allow(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(
        &state,
        &auth,
        "admin:write:domain_allows",
        MANAGE_FEDERATION,
    )
    .await?;
    let row = allow_by_path(&state, &id).await?;
    federation_domain::disallow(&state.domain, &row.domain).await?;
    reload(&state).await?;
    Ok(Json(json!({})))
}
