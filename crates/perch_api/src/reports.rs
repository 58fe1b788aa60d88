//! `POST /api/v1/reports`: a user reports an account to this server's
//! moderators, and, for a remote account, to its server's too when asked
//! (`forward`). The rules are perch_domain's `reports`, which the inbox
//! calls for a received Flag as well.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::reports::{self, ReportRow};
use perch_db::statuses;
use perch_domain::reports::{self as reports_domain, MAX_STATUSES};
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::entities::account::{Account, account_from_row};
use crate::entities::iso8601_millis;
use crate::params::{Params, lenient_bool};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v1/reports", post(create))
}

/// Mastodon's Report entity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub id: String,
    pub action_taken: bool,
    pub action_taken_at: Option<String>,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    pub created_at: String,
    pub status_ids: Option<Vec<String>>,
    pub rule_ids: Option<Vec<String>>,
    pub target_account: Account,
}

/// The Report entity of a stored report.
pub async fn render(
    state: &ApiState,
    row: &ReportRow,
    target: &AccountRow,
) -> Result<Report, ApiError> {
    let strings = |ids: Vec<i64>| -> Option<Vec<String>> {
        (!ids.is_empty()).then(|| ids.iter().map(i64::to_string).collect())
    };
    Ok(Report {
        id: row.id.to_string(),
        action_taken: row.action_taken_at.is_some(),
        action_taken_at: row.action_taken_at.map(iso8601_millis),
        category: row.category.clone(),
        comment: row.comment.clone(),
        forwarded: row.forwarded,
        created_at: iso8601_millis(row.created_at),
        status_ids: strings(reports::status_ids(&state.db, row.id).await?),
        rule_ids: strings(reports::rule_ids(&state.db, row.id).await?),
        target_account: account_from_row(target, &state.config.public_url),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportParams {
    account_id: Option<String>,
    #[serde(default, alias = "status_ids[]")]
    status_ids: Vec<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    forward: Option<bool>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default, alias = "rule_ids[]")]
    rule_ids: Vec<serde_json::Value>,
}

/// `POST /api/v1/reports` (`write:reports`).
async fn create(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<ReportParams>,
) -> Result<Json<Report>, ApiError> {
    auth.require("write:reports")?;
    let me = accounts::find_by_id(&state.db, Id::from_i64(auth.account_id()?))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let target_id: Id = params
        .account_id
        .as_deref()
        .ok_or_else(|| ApiError::unprocessable("Validation failed: account_id is missing"))?
        .parse()
        .map_err(|_| ApiError::not_found())?;
    let target = accounts::find_by_id(&state.db, target_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if params.status_ids.len() > MAX_STATUSES {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: at most {MAX_STATUSES} statuses may be reported at once"
        )));
    }
    // Each reported status must be the target's, and one the reporter may
    // read (Mastodon answers 404 otherwise).
    let mut reported = Vec::with_capacity(params.status_ids.len());
    for id in &params.status_ids {
        let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
        let status = statuses::find_readable(&state.db, id, me.id)
            .await?
            .filter(|s| s.account_id == target.id)
            .ok_or_else(ApiError::not_found)?;
        reported.push(status);
    }
    let rule_ids = params
        .rule_ids
        .iter()
        .map(|value| match value {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .collect::<Option<Vec<i64>>>()
        .ok_or_else(|| ApiError::unprocessable("Validation failed: rule_ids must be ids"))?;
    let report = reports_domain::Report {
        target: &target,
        statuses: &reported,
        comment: params.comment.as_deref().unwrap_or_default(),
        category: params.category.as_deref().filter(|c| !c.is_empty()),
        rule_ids: &rule_ids,
        forward: params.forward.unwrap_or(false),
    };
    let row = reports_domain::report(&state.domain, &me, &report, None)
        .await?
        .ok_or_else(|| ApiError::internal(&"the report was not stored"))?;
    Ok(Json(render(&state, &row, &target).await?))
}
