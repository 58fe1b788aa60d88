//! The notification policy and its requests, as Mastodon 4.3 serves them:
//! `/api/v2/notifications/policy` (accept, filter or drop, per kind of
//! sender), the v1 form old apps use (`/api/v1/notifications/policy`, with
//! booleans), and `/api/v1/notifications/requests` (the senders whose
//! notifications were filtered: list, show, accept, dismiss, one or many).
//!
//! The policy is applied where notifications are stored (perch_db's
//! `notification_policies`), for local and federated ones alike; here it is
//! only read and set.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_core::notifications::{NotificationPolicy, PolicyAction};
use perch_core::time::now_millis;
use perch_db::notification_requests::{self, RequestRow};
use perch_db::{accounts, notification_policies, statuses};
use serde::Deserialize;

use crate::auth::Auth;
use crate::entities::account::account_from_row;
use crate::entities::notification_group::{
    NotificationPolicyV1, NotificationPolicyV2, NotificationRequest, notification_request,
    policy_v1, policy_v2,
};
use crate::pagination::{PageParams, keyed_page};
use crate::params::{Params, lenient_bool};
use crate::statuses::view::render;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v2/notifications/policy",
            get(get_policy_v2).patch(set_policy_v2).put(set_policy_v2),
        )
        .route(
            "/api/v1/notifications/policy",
            get(get_policy_v1).put(set_policy_v1).patch(set_policy_v1),
        )
        .route("/api/v1/notifications/requests", get(list_requests))
        .route("/api/v1/notifications/requests/merged", get(merged))
        .route("/api/v1/notifications/requests/accept", post(accept_many))
        .route("/api/v1/notifications/requests/dismiss", post(dismiss_many))
        .route("/api/v1/notifications/requests/{id}", get(show_request))
        .route(
            "/api/v1/notifications/requests/{id}/accept",
            post(accept_one),
        )
        .route(
            "/api/v1/notifications/requests/{id}/dismiss",
            post(dismiss_one),
        )
}

async fn current(state: &ApiState, me: i64) -> Result<NotificationPolicy, ApiError> {
    Ok(notification_policies::get(&state.db, me).await?)
}

/// `GET /api/v2/notifications/policy`.
async fn get_policy_v2(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<NotificationPolicyV2>, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let summary = notification_requests::summary(&state.db, me).await?;
    Ok(Json(policy_v2(&current(&state, me).await?, summary)))
}

#[derive(Debug, Default, Deserialize)]
struct PolicyV2Params {
    for_not_following: Option<String>,
    for_not_followers: Option<String>,
    for_new_accounts: Option<String>,
    for_private_mentions: Option<String>,
    for_limited_accounts: Option<String>,
}

/// `value` for the setting `name`, unless it is not given.
fn action(name: &str, value: Option<&str>, was: PolicyAction) -> Result<PolicyAction, ApiError> {
    match value {
        None => Ok(was),
        Some(text) => text.trim().parse().map_err(|()| {
            ApiError::unprocessable(format!(
                "Validation failed: {name} must be one of accept, filter or drop"
            ))
        }),
    }
}

/// `PATCH` (or `PUT`, as Rails routes it) `/api/v2/notifications/policy`:
/// the settings given change, the others stay.
async fn set_policy_v2(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<PolicyV2Params>,
) -> Result<Json<NotificationPolicyV2>, ApiError> {
    auth.require("write:notifications")?;
    let me = auth.account_id()?;
    let was = current(&state, me).await?;
    let policy = NotificationPolicy {
        for_not_following: action(
            "for_not_following",
            params.for_not_following.as_deref(),
            was.for_not_following,
        )?,
        for_not_followers: action(
            "for_not_followers",
            params.for_not_followers.as_deref(),
            was.for_not_followers,
        )?,
        for_new_accounts: action(
            "for_new_accounts",
            params.for_new_accounts.as_deref(),
            was.for_new_accounts,
        )?,
        for_private_mentions: action(
            "for_private_mentions",
            params.for_private_mentions.as_deref(),
            was.for_private_mentions,
        )?,
        for_limited_accounts: action(
            "for_limited_accounts",
            params.for_limited_accounts.as_deref(),
            was.for_limited_accounts,
        )?,
    };
    notification_policies::set(&state.db, me, &policy, now_millis()).await?;
    let summary = notification_requests::summary(&state.db, me).await?;
    Ok(Json(policy_v2(&policy, summary)))
}

/// `GET /api/v1/notifications/policy`.
async fn get_policy_v1(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<NotificationPolicyV1>, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let summary = notification_requests::summary(&state.db, me).await?;
    Ok(Json(policy_v1(&current(&state, me).await?, summary)))
}

#[derive(Debug, Default, Deserialize)]
struct PolicyV1Params {
    #[serde(default, deserialize_with = "lenient_bool")]
    filter_not_following: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    filter_not_followers: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    filter_new_accounts: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    filter_private_mentions: Option<bool>,
}

/// A v1 boolean over a v2 setting: true filters, false accepts.
fn from_flag(flag: Option<bool>, was: PolicyAction) -> PolicyAction {
    match flag {
        None => was,
        Some(true) => PolicyAction::Filter,
        Some(false) => PolicyAction::Accept,
    }
}

/// `PUT` (or `PATCH`) `/api/v1/notifications/policy`.
async fn set_policy_v1(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<PolicyV1Params>,
) -> Result<Json<NotificationPolicyV1>, ApiError> {
    auth.require("write:notifications")?;
    let me = auth.account_id()?;
    let was = current(&state, me).await?;
    let policy = NotificationPolicy {
        for_not_following: from_flag(params.filter_not_following, was.for_not_following),
        for_not_followers: from_flag(params.filter_not_followers, was.for_not_followers),
        for_new_accounts: from_flag(params.filter_new_accounts, was.for_new_accounts),
        for_private_mentions: from_flag(params.filter_private_mentions, was.for_private_mentions),
        for_limited_accounts: was.for_limited_accounts,
    };
    notification_policies::set(&state.db, me, &policy, now_millis()).await?;
    let summary = notification_requests::summary(&state.db, me).await?;
    Ok(Json(policy_v1(&policy, summary)))
}

/// Requests rendered for `me`, in order; one whose sender is gone is left
/// out. Senders and last statuses are loaded in one batch each.
async fn render_requests(
    state: &ApiState,
    me: i64,
    rows: &[RequestRow],
) -> Result<Vec<NotificationRequest>, ApiError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.from_account_id).collect();
    let people: HashMap<i64, _> = accounts::find_many(&state.db, &ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let emojis =
        crate::emojis::of_accounts(&state.db, &people.values().collect::<Vec<_>>()).await?;
    let status_ids: Vec<i64> = rows.iter().filter_map(|r| r.last_status_id).collect();
    let status_rows = statuses::find_many(&state.db, &status_ids).await?;
    let readable: HashMap<String, _> = render(state, me, &status_rows)
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    Ok(rows
        .iter()
        .filter_map(|row| {
            let person = people.get(&row.from_account_id)?;
            let account = crate::emojis::with_emojis(
                account_from_row(person, &state.config.public_url),
                person,
                &emojis,
            );
            let last_status = row
                .last_status_id
                .and_then(|id| readable.get(&id.to_string()).cloned());
            Some(notification_request(
                row.id,
                row.created_at,
                row.updated_at,
                account,
                row.notifications_count,
                last_status,
            ))
        })
        .collect())
}

/// `GET /api/v1/notifications/requests`, newest first, paged by id.
async fn list_requests(
    State(state): State<ApiState>,
    auth: Auth,
    crate::params::Query(params): crate::params::Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let page = params.page(40, 80);
    let rows = notification_requests::page(&state.db, me, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let rendered = render_requests(&state, me, &rows).await?;
    Ok(keyed_page(
        &state.config.public_url,
        "/api/v1/notifications/requests",
        &keys,
        rendered,
        page.limit,
    ))
}

fn request_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found())
}

/// `GET /api/v1/notifications/requests/:id`.
async fn show_request(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<NotificationRequest>, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let row = notification_requests::find(&state.db, me, request_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    render_requests(&state, me, std::slice::from_ref(&row))
        .await?
        .pop()
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// `POST /api/v1/notifications/requests/:id/accept`.
async fn accept_one(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:notifications")?;
    let me = auth.account_id()?;
    let id = request_id(&id)?;
    if perch_domain::notifications::accept_requests(&state.domain, me, &[id]).await? == 0 {
        return Err(ApiError::not_found());
    }
    Ok(Json(serde_json::json!({})))
}

/// `POST /api/v1/notifications/requests/:id/dismiss`.
async fn dismiss_one(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:notifications")?;
    let me = auth.account_id()?;
    let id = request_id(&id)?;
    if perch_domain::notifications::dismiss_requests(&state.domain, me, &[id]).await? == 0 {
        return Err(ApiError::not_found());
    }
    Ok(Json(serde_json::json!({})))
}

#[derive(Debug, Default, Deserialize)]
struct ManyParams {
    #[serde(default, rename = "id[]", alias = "id")]
    id: Vec<String>,
}

/// The ids given; those that are not ids name nothing.
fn ids(params: &ManyParams) -> Vec<i64> {
    params.id.iter().filter_map(|id| id.parse().ok()).collect()
}

/// `POST /api/v1/notifications/requests/accept` with `id[]`: the caller's
/// among them are accepted, the others ignored, as in Mastodon.
async fn accept_many(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<ManyParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:notifications")?;
    let me = auth.account_id()?;
    perch_domain::notifications::accept_requests(&state.domain, me, &ids(&params)).await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /api/v1/notifications/requests/dismiss` with `id[]`.
async fn dismiss_many(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<ManyParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:notifications")?;
    let me = auth.account_id()?;
    perch_domain::notifications::dismiss_requests(&state.domain, me, &ids(&params)).await?;
    Ok(Json(serde_json::json!({})))
}

/// `GET /api/v1/notifications/requests/merged`: accepting merges at once,
/// so merging is always over.
async fn merged(auth: Auth) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("read:notifications")?;
    auth.account_id()?;
    Ok(Json(serde_json::json!({ "merged": true })))
}
