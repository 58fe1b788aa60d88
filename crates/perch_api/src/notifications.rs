//! Notifications and read markers: `/api/v1/notifications` (list with
//! `types[]` / `exclude_types[]` / `account_id` / `include_filtered`, show,
//! dismiss, clear) and `/api/v1/markers`. Grouped notifications are in
//! [`crate::notification_groups`], the policy and its requests in
//! [`crate::notification_policy`].

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_core::id::Id;
use perch_core::role::permission;
use perch_core::time::now_millis;
use perch_db::accounts;
use perch_db::notifications::{self, NotificationRow, TypeFilter};
use perch_db::{statuses, users};
use serde::Deserialize;

use crate::auth::Auth;
use crate::entities::account::account_from_row;
use crate::entities::notification::{Marker, Notification, marker, notification};
use crate::pagination::{PageParams, link_header, paged_json};
use crate::params::{Params, Query, lenient_bool};
use crate::reports::render as report_entity;
use crate::statuses::filtering::FilterScope;
use crate::statuses::view::render_in;
use crate::{ApiError, ApiState};

/// The notification types Perch produces.
pub(crate) const TYPES: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
];

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/clear", post(clear))
        .route("/api/v1/notifications/unread_count", get(unread_count))
        .route("/api/v1/notifications/{id}", get(show))
        .route("/api/v1/notifications/{id}/dismiss", post(dismiss))
        .route("/api/v1/markers", get(get_markers).post(set_markers))
}

#[derive(Debug, Default, Deserialize)]
struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, rename = "types[]", alias = "types")]
    types: Vec<String>,
    #[serde(default, rename = "exclude_types[]", alias = "exclude_types")]
    exclude_types: Vec<String>,
    account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    include_filtered: Option<bool>,
}

/// The notifications a list or a count asks for (`types[]` and
/// `exclude_types[]`, known ones only; `account_id`; `include_filtered`);
/// `None` when it asked only for types that do not exist, which nothing
/// matches.
pub(crate) fn type_filter(
    types: &[String],
    exclude_types: &[String],
    account_id: Option<&str>,
    include_filtered: bool,
) -> Option<TypeFilter> {
    let include = known(types);
    if !types.is_empty() && include.is_empty() {
        return None;
    }
    Some(TypeFilter {
        include,
        exclude: known(exclude_types),
        from_account_id: sender_param(account_id),
        include_filtered,
    })
}

/// The `limit` of an unread count: [`DEFAULT_UNREAD_LIMIT`] unless given,
/// at most [`MAX_UNREAD_LIMIT`].
pub(crate) fn unread_limit(limit: Option<&str>) -> i64 {
    limit
        .and_then(|l| l.trim().parse::<i64>().ok())
        .unwrap_or(DEFAULT_UNREAD_LIMIT)
        .clamp(1, MAX_UNREAD_LIMIT)
}

/// The sender named by `account_id`: one that is not an id matches no
/// notification.
pub(crate) fn sender_param(account_id: Option<&str>) -> Option<i64> {
    account_id.map(|id| id.trim().parse().unwrap_or(-1))
}

/// The query parameters a list keeps in its `Link` header, besides paging.
pub(crate) fn filter_params(filter: &TypeFilter) -> Vec<String> {
    let mut extra: Vec<String> = filter
        .include
        .iter()
        .map(|t| format!("types[]={t}"))
        .collect();
    extra.extend(
        filter
            .exclude
            .iter()
            .map(|t| format!("exclude_types[]={t}")),
    );
    if let Some(from) = filter.from_account_id {
        extra.push(format!("account_id={from}"));
    }
    if filter.include_filtered {
        extra.push("include_filtered=true".to_owned());
    }
    extra
}

/// Known types only: an unknown one filters nothing out, and asking only
/// for unknown types yields nothing.
pub(crate) fn known(list: &[String]) -> Vec<String> {
    list.iter()
        .filter(|t| TYPES.contains(&t.as_str()))
        .cloned()
        .collect()
}

/// Rows rendered, in order; a notification whose status the owner may no
/// longer read, or hides by a filter of the notifications, is left out.
async fn render_rows(
    state: &ApiState,
    me: i64,
    rows: &[NotificationRow],
) -> Result<Vec<Notification>, ApiError> {
    let account_ids: Vec<i64> = rows.iter().map(|r| r.from_account_id).collect();
    let people: HashMap<i64, _> = accounts::find_many(&state.db, &account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let status_ids: Vec<i64> = rows.iter().filter_map(|r| r.status_id).collect();
    let status_rows = statuses::find_many(&state.db, &status_ids).await?;
    let scope = FilterScope::timeline(perch_core::filter::FilterContext::Notifications);
    let rendered = render_in(state, me, &status_rows, scope).await?;
    let by_id: HashMap<String, _> = rendered.into_iter().map(|s| (s.id.clone(), s)).collect();
    // The staff's notifications show while the viewer's role still grants
    // what they are about.
    let role = if rows.iter().any(|r| r.kind.starts_with("admin.")) {
        users::find_by_account_id(&state.db, me)
            .await?
            .map(|user| user.role())
    } else {
        None
    };
    let mut reports = HashMap::new();
    for report_id in rows.iter().filter_map(|r| r.report_id) {
        if let Some(report) = perch_db::reports::find(&state.db, report_id).await?
            && let Some(target) =
                accounts::find_by_id(&state.db, Id::from_i64(report.target_account_id)).await?
        {
            reports.insert(report_id, report_entity(state, &report, &target).await?);
        }
    }
    let emojis =
        crate::emojis::of_accounts(&state.db, &people.values().collect::<Vec<_>>()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(from) = people.get(&row.from_account_id) else {
            continue;
        };
        let needed = match row.kind.as_str() {
            "admin.report" => Some(permission::MANAGE_REPORTS),
            "admin.sign_up" => Some(permission::MANAGE_USERS),
            _ => None,
        };
        if needed.is_some_and(|wanted| !role.is_some_and(|role| role.may(wanted))) {
            continue;
        }
        let report = match row.report_id {
            Some(id) => match reports.get(&id) {
                Some(report) => Some(report.clone()),
                None => continue,
            },
            None => None,
        };
        let status = match row.status_id {
            Some(id) => match by_id.get(&id.to_string()) {
                Some(status) => Some(status.clone()),
                None => continue,
            },
            None => None,
        };
        out.push(notification(
            row.id,
            &row.kind,
            &row.group_key,
            row.created_at,
            crate::emojis::with_emojis(
                account_from_row(from, &state.config.public_url),
                from,
                &emojis,
            ),
            status,
            report,
        ));
    }
    Ok(out)
}

/// One notification rendered for its owner, if it still shows.
pub async fn render_one(
    state: &ApiState,
    me: i64,
    row: &NotificationRow,
) -> Result<Option<Notification>, ApiError> {
    Ok(render_rows(state, me, std::slice::from_ref(row))
        .await?
        .pop())
}

/// `GET /api/v1/notifications`.
async fn list(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let page = params.page.page(40, 80);
    let Some(filter) = type_filter(
        &params.types,
        &params.exclude_types,
        params.account_id.as_deref(),
        params.include_filtered.unwrap_or(false),
    ) else {
        return Ok(paged_json(Vec::<Notification>::new(), None));
    };
    let rows = notifications::page(&state.db, me, &filter, &page).await?;
    let extra = filter_params(&filter);
    let base = format!("{}api/v1/notifications", state.config.public_url);
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.id, o.id));
    let link = link_header(&base, &extra.join("&"), bounds, rows.len(), page.limit);
    Ok(paged_json(render_rows(&state, me, &rows).await?, link))
}

fn notification_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found())
}

/// `GET /api/v1/notifications/:id`.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Notification>, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let row = notifications::find(&state.db, me, notification_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    render_one(&state, me, &row)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// `POST /api/v1/notifications/:id/dismiss`.
async fn dismiss(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:notifications")?;
    let me = auth.account_id()?;
    if !notifications::dismiss(&state.db, me, notification_id(&id)?).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(serde_json::json!({})))
}

/// `POST /api/v1/notifications/clear`.
async fn clear(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:notifications")?;
    notifications::clear(&state.db, auth.account_id()?).await?;
    Ok(Json(serde_json::json!({})))
}

/// Unread notifications counted at most, unless `limit` says otherwise.
pub(crate) const DEFAULT_UNREAD_LIMIT: i64 = 100;
pub(crate) const MAX_UNREAD_LIMIT: i64 = 1000;

#[derive(Debug, Default, Deserialize)]
struct UnreadParams {
    limit: Option<String>,
    #[serde(default, rename = "types[]", alias = "types")]
    types: Vec<String>,
    #[serde(default, rename = "exclude_types[]", alias = "exclude_types")]
    exclude_types: Vec<String>,
    account_id: Option<String>,
}

/// `GET /api/v1/notifications/unread_count`: the notifications newer than
/// the `notifications` marker (all of them without one), up to `limit`,
/// as `{"count": n}`.
async fn unread_count(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<UnreadParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let limit = unread_limit(params.limit.as_deref());
    let read_up_to = notifications::markers(&state.db, me)
        .await?
        .into_iter()
        .find(|m| m.timeline == "notifications")
        .map(|m| m.last_read_id);
    let Some(filter) = type_filter(
        &params.types,
        &params.exclude_types,
        params.account_id.as_deref(),
        false,
    ) else {
        return Ok(Json(serde_json::json!({ "count": 0 })));
    };
    let page = perch_db::page::Page {
        since_id: read_up_to,
        ..perch_db::page::Page::newest(limit)
    };
    let unread = notifications::page(&state.db, me, &filter, &page).await?;
    Ok(Json(serde_json::json!({ "count": unread.len() })))
}

const MARKER_TIMELINES: &[&str] = &["home", "notifications"];

#[derive(Debug, Default, Deserialize)]
struct MarkerQuery {
    #[serde(default, rename = "timeline[]", alias = "timeline")]
    timeline: Vec<String>,
}

/// `GET /api/v1/markers?timeline[]=home&timeline[]=notifications`.
async fn get_markers(
    State(state): State<ApiState>,
    auth: Auth,
    Query(query): Query<MarkerQuery>,
) -> Result<Json<BTreeMap<String, Marker>>, ApiError> {
    auth.require("read:statuses")?;
    let me = auth.account_id()?;
    let rows = notifications::markers(&state.db, me).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|r| query.timeline.is_empty() || query.timeline.contains(&r.timeline))
            .map(|r| {
                (
                    r.timeline.clone(),
                    marker(r.last_read_id, r.version, r.updated_at),
                )
            })
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct MarkerInput {
    last_read_id: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
struct MarkerParams {
    home: Option<MarkerInput>,
    notifications: Option<MarkerInput>,
    #[serde(rename = "home[last_read_id]")]
    home_form: Option<String>,
    #[serde(rename = "notifications[last_read_id]")]
    notifications_form: Option<String>,
}

fn marker_id(
    value: Option<&serde_json::Value>,
    form: Option<&String>,
) -> Result<Option<i64>, ApiError> {
    let text = match (value, form) {
        (Some(serde_json::Value::String(s)), _) => Some(s.clone()),
        (Some(serde_json::Value::Number(n)), _) => Some(n.to_string()),
        (_, Some(s)) => Some(s.clone()),
        _ => None,
    };
    text.map(|t| {
        t.parse::<i64>()
            .map_err(|_| ApiError::unprocessable("Validation failed: last_read_id is not an id"))
    })
    .transpose()
}

/// `POST /api/v1/markers`: `home[last_read_id]` and/or
/// `notifications[last_read_id]`.
async fn set_markers(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<MarkerParams>,
) -> Result<Json<BTreeMap<String, Marker>>, ApiError> {
    auth.require("write:statuses")?;
    let me = auth.account_id()?;
    let home = marker_id(
        params.home.as_ref().and_then(|m| m.last_read_id.as_ref()),
        params.home_form.as_ref(),
    )?;
    let notes = marker_id(
        params
            .notifications
            .as_ref()
            .and_then(|m| m.last_read_id.as_ref()),
        params.notifications_form.as_ref(),
    )?;
    let now = now_millis();
    for (timeline, id) in MARKER_TIMELINES.iter().zip([home, notes]) {
        if let Some(id) = id {
            notifications::set_marker(&state.db, me, timeline, id, now).await?;
        }
    }
    let rows = notifications::markers(&state.db, me).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|r| {
                (r.timeline == "home" && home.is_some())
                    || (r.timeline == "notifications" && notes.is_some())
            })
            .map(|r| {
                (
                    r.timeline.clone(),
                    marker(r.last_read_id, r.version, r.updated_at),
                )
            })
            .collect(),
    ))
}
