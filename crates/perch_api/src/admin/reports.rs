//! `/api/v1/admin/reports`: the reports queue, for those whose role may
//! manage reports (moderators and up): list (open by default), show,
//! assign to oneself or to nobody, resolve and reopen.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_core::id::Id;
use perch_core::role::permission::MANAGE_REPORTS;
use perch_db::accounts;
use perch_db::reports::{self, ReportFilter, ReportRow};
use perch_domain::reports as reports_domain;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{admin_account, require_role};
use crate::auth::Auth;
use crate::entities::iso8601_millis;
use crate::pagination::{PageParams, keyed_page};
use crate::params::{Query, lenient_bool};
use crate::statuses::view::render as render_statuses;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/admin/reports", get(list))
        .route("/api/v1/admin/reports/{id}", get(show))
        .route(
            "/api/v1/admin/reports/{id}/assign_to_self",
            post(assign_to_self),
        )
        .route("/api/v1/admin/reports/{id}/unassign", post(unassign))
        .route("/api/v1/admin/reports/{id}/resolve", post(resolve))
        .route("/api/v1/admin/reports/{id}/reopen", post(reopen))
}

/// Mastodon's Admin::Report.
async fn render(state: &ApiState, row: &ReportRow) -> Result<Value, ApiError> {
    let account = |id: Option<i64>| async move {
        let Some(id) = id else {
            return Ok::<_, ApiError>(Value::Null);
        };
        match accounts::find_by_id(&state.db, Id::from_i64(id)).await? {
            Some(row) => admin_account(state, &row).await,
            None => Ok(Value::Null),
        }
    };
    // As they stand, or as they were reported when deleted since.
    let statuses = reports::statuses(&state.db, row.id).await?;
    let rule_ids = reports::rule_ids(&state.db, row.id).await?;
    let rules: Vec<Value> = reports::all_rules(&state.db)
        .await?
        .into_iter()
        .filter(|rule| rule_ids.contains(&rule.id))
        .map(|rule| json!({"id": rule.id.to_string(), "text": rule.text, "hint": rule.hint}))
        .collect();
    Ok(json!({
        "id": row.id.to_string(),
        "action_taken": row.action_taken_at.is_some(),
        "action_taken_at": row.action_taken_at.map(iso8601_millis),
        "category": row.category,
        "comment": row.comment,
        "forwarded": row.forwarded,
        "created_at": iso8601_millis(row.created_at),
        "updated_at": iso8601_millis(row.updated_at),
        "account": account(Some(row.account_id)).await?,
        "target_account": account(Some(row.target_account_id)).await?,
        "assigned_account": account(row.assigned_account_id).await?,
        "action_taken_by_account": account(row.action_taken_by_account_id).await?,
        "statuses": render_statuses(state, 0, &statuses).await?,
        "rules": rules,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient_bool")]
    resolved: Option<bool>,
    account_id: Option<String>,
    target_account_id: Option<String>,
}

fn optional_id(value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::unprocessable("Validation failed: not an id"))
        })
        .transpose()
}

/// `GET /api/v1/admin/reports`: open reports unless `resolved=true`,
/// newest first, with Mastodon's `Link` header.
async fn list(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    require_role(&state, &auth, "admin:read:reports", MANAGE_REPORTS).await?;
    let filter = ReportFilter {
        resolved: params.resolved.unwrap_or(false),
        account_id: optional_id(params.account_id.as_deref())?,
        target_account_id: optional_id(params.target_account_id.as_deref())?,
    };
    let page = params.page.page(100, 200);
    let rows = reports::page(&state.db, filter, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push(render(&state, row).await?);
    }
    Ok(keyed_page(
        &state.config.public_url,
        "/api/v1/admin/reports",
        &keys,
        items,
        page.limit,
    ))
}

async fn report_by_path(state: &ApiState, id: &str) -> Result<ReportRow, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    reports::find(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/admin/reports/:id`.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    require_role(&state, &auth, "admin:read:reports", MANAGE_REPORTS).await?;
    let row = report_by_path(&state, &id).await?;
    Ok(Json(render(&state, &row).await?))
}

/// What a moderator does to a report.
#[derive(Clone, Copy)]
enum Action {
    AssignToSelf,
    Unassign,
    Resolve,
    Reopen,
}

async fn act(
    state: ApiState,
    auth: Auth,
    id: String,
    action: Action,
) -> Result<Json<Value>, ApiError> {
    let (me, _) = require_role(&state, &auth, "admin:write:reports", MANAGE_REPORTS).await?;
    let row = report_by_path(&state, &id).await?;
    let domain = &state.domain;
    match action {
        Action::AssignToSelf => reports_domain::assign(domain, row.id, Some(&me)).await?,
        Action::Unassign => reports_domain::assign(domain, row.id, None).await?,
        Action::Resolve => reports_domain::resolve(domain, row.id, Some(&me)).await?,
        Action::Reopen => reports_domain::resolve(domain, row.id, None).await?,
    };
    let row = report_by_path(&state, &id).await?;
    Ok(Json(render(&state, &row).await?))
}

/// `POST /api/v1/admin/reports/:id/assign_to_self`.
async fn assign_to_self(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    act(state, auth, id, Action::AssignToSelf).await
}

/// `POST /api/v1/admin/reports/:id/unassign`.
async fn unassign(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    act(state, auth, id, Action::Unassign).await
}

/// `POST /api/v1/admin/reports/:id/resolve`.
async fn resolve(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    act(state, auth, id, Action::Resolve).await
}

/// `POST /api/v1/admin/reports/:id/reopen`.
async fn reopen(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    act(state, auth, id, Action::Reopen).await
}
