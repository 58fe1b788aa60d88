//! Scheduled statuses, as Mastodon serves them: `scheduled_at` on `POST
//! /api/v1/statuses` answers a ScheduledStatus, `GET
//! /api/v1/scheduled_statuses` lists them (paged by id with `Link`
//! headers), and `GET|PUT|DELETE /api/v1/scheduled_statuses/:id` reads,
//! moves and cancels one. Its rules (how far ahead, how many) are
//! perch_domain's `scheduled`.
//!
//! [`worker`] publishes them when due, in every process that delivers:
//! each due status is claimed by one process ([`run_due`], which tests
//! call with the time they want), then posted through the same
//! [`post_as`] as a status posted now, so that it is stored, fanned out,
//! notified and federated alike; its queue row goes in the posting
//! transaction, so that it is published once.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use perch_core::id::Id;
use perch_core::time::{UnixMillis, now_millis};
use perch_db::accounts;
use perch_db::media;
use perch_db::scheduled_statuses::{self, ScheduledRow};
use perch_domain::scheduled::NewScheduled;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::create::{Prepared, StatusParams, post_as};
use super::signed_in;
use crate::auth::Auth;
use crate::entities::iso8601_millis;
use crate::entities::media::media_attachment;
use crate::pagination::{PageParams, keyed_page};
use crate::params::{Params, Query};
use crate::{ApiError, ApiState};

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 40;
/// Due statuses one pass claims.
const BATCH: i64 = 32;
/// How long a claim holds before another process may take the status.
const CLAIM_MILLIS: i64 = 60_000;
/// After a failure that may pass (the database), the next attempt.
const RETRY_MILLIS: i64 = 30_000;
/// Attempts before a status that keeps failing is given up.
const MAX_ATTEMPTS: i32 = 10;
/// Between passes when nothing was due.
const IDLE: Duration = Duration::from_secs(1);

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/scheduled_statuses", get(index))
        .route(
            "/api/v1/scheduled_statuses/{id}",
            get(show).put(update).delete(remove),
        )
}

/// The request as stored and shown back: Mastodon's `params`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredParams {
    pub text: String,
    pub poll: Option<StoredPoll>,
    pub media_ids: Option<Vec<String>>,
    pub sensitive: Option<bool>,
    pub spoiler_text: Option<String>,
    pub visibility: String,
    pub in_reply_to_id: Option<String>,
    pub language: Option<String>,
    pub application_id: Option<String>,
    /// Always null, as in Mastodon (the time is the entity's).
    pub scheduled_at: Option<String>,
    pub idempotency: Option<String>,
    pub with_rate_limit: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredPoll {
    pub options: Vec<String>,
    /// Seconds, counted from when the status is published.
    pub expires_in: i64,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// The time `scheduled_at` asks for: None when absent, or passed already
/// (the status is then posted now, as Mastodon does).
pub(super) fn requested_time(scheduled_at: Option<&str>) -> Result<Option<UnixMillis>, ApiError> {
    let Some(text) = scheduled_at.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let at = parse_time(text)?;
    Ok((at > now_millis()).then_some(at))
}

fn parse_time(text: &str) -> Result<UnixMillis, ApiError> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| ApiError::unprocessable("Validation failed: Scheduled at is invalid"))
}

/// Mastodon's ScheduledStatus.
async fn entity(state: &ApiState, row: &ScheduledRow) -> Result<Value, ApiError> {
    let params: Value = serde_json::from_str(&row.params).map_err(|e| ApiError::internal(&e))?;
    let media: Vec<Value> = media::for_scheduled(&state.db, row.id)
        .await?
        .iter()
        .map(|m| serde_json::to_value(media_attachment(m)).unwrap_or(Value::Null))
        .collect();
    Ok(json!({
        "id": row.id.to_string(),
        "scheduled_at": iso8601_millis(row.scheduled_at),
        "params": params,
        "media_attachments": media,
    }))
}

/// Schedule `params` (checked as `prepared`) for `at`.
pub(super) async fn schedule(
    state: &ApiState,
    auth: &Auth,
    me: &accounts::AccountRow,
    prepared: Prepared,
    at: UnixMillis,
) -> Result<Json<Value>, ApiError> {
    let stored = StoredParams {
        text: prepared.text().to_owned(),
        poll: prepared.poll.as_ref().map(|poll| StoredPoll {
            options: poll
                .options
                .iter()
                .map(|(title, _)| title.clone())
                .collect(),
            // Counted from when it is published, as asked.
            expires_in: prepared.poll_expires_in.unwrap_or_default(),
            multiple: poll.multiple,
            hide_totals: poll.hide_totals,
        }),
        media_ids: (!prepared.media_ids.is_empty())
            .then(|| prepared.media_ids.iter().map(i64::to_string).collect()),
        sensitive: Some(prepared.sensitive()),
        spoiler_text: Some(prepared.spoiler_text().to_owned()),
        visibility: prepared.visibility.as_str().to_owned(),
        in_reply_to_id: prepared.parent.as_ref().map(|p| p.id.to_string()),
        language: prepared.language().map(str::to_owned),
        application_id: Some(auth.app_id.to_string()),
        scheduled_at: None,
        idempotency: None,
        with_rate_limit: false,
    };
    let json = serde_json::to_string(&stored).map_err(|e| ApiError::internal(&e))?;
    let id = perch_domain::scheduled::schedule(
        &state.domain,
        me,
        NewScheduled {
            scheduled_at: at,
            params: json,
            media_ids: &prepared.media_ids,
        },
    )
    .await?;
    let row = scheduled_statuses::find(&state.db, me.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(entity(state, &row).await?))
}

async fn own(state: &ApiState, me: i64, id: &str) -> Result<ScheduledRow, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    scheduled_statuses::find(&state.db, me, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/scheduled_statuses`.
async fn index(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = signed_in(&state, &auth, &["read:statuses"]).await?;
    let page = params.page(DEFAULT_LIMIT, MAX_LIMIT);
    let rows = scheduled_statuses::page(&state.db, me.id, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        items.push(entity(&state, row).await?);
    }
    Ok(keyed_page(
        &state.config.public_url,
        "/api/v1/scheduled_statuses",
        &keys,
        items,
        page.limit,
    ))
}

/// `GET /api/v1/scheduled_statuses/:id`.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = signed_in(&state, &auth, &["read:statuses"]).await?;
    let row = own(&state, me.id, &id).await?;
    Ok(Json(entity(&state, &row).await?))
}

#[derive(Debug, Default, Deserialize)]
struct UpdateParams {
    scheduled_at: Option<String>,
}

/// `PUT /api/v1/scheduled_statuses/:id` with a new `scheduled_at`.
async fn update(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<UpdateParams>,
) -> Result<Json<Value>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let row = own(&state, me.id, &id).await?;
    if let Some(text) = params
        .scheduled_at
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        let at = parse_time(text)?;
        if !perch_domain::scheduled::reschedule(&state.domain, me.id, row.id, at).await? {
            return Err(ApiError::not_found());
        }
    }
    let row = own(&state, me.id, &id).await?;
    Ok(Json(entity(&state, &row).await?))
}

/// `DELETE /api/v1/scheduled_statuses/:id`: answers `{}`; its uploads are
/// free again.
async fn remove(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let row = own(&state, me.id, &id).await?;
    if !scheduled_statuses::remove(&state.db, me.id, row.id).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(json!({})))
}

/// Run until `stop`: publish what is due, every second when idle.
pub async fn worker(state: ApiState, stop: CancellationToken) {
    loop {
        let published = match run_due(&state, now_millis()).await {
            Ok(published) => published,
            Err(error) => {
                tracing::warn!(%error, "a pass over scheduled statuses failed");
                0
            }
        };
        if published == 0 {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(IDLE) => {}
            }
        } else if stop.is_cancelled() {
            return;
        }
    }
}

/// Publish the statuses due at `now` (a batch of them) that this process
/// claims; how many it tried.
pub async fn run_due(state: &ApiState, now: UnixMillis) -> Result<usize, perch_db::Error> {
    let rows = scheduled_statuses::claim_due(&state.db, now, now + CLAIM_MILLIS, BATCH).await?;
    for row in &rows {
        publish(state, row, now).await?;
    }
    Ok(rows.len())
}

/// Post one claimed status. One that can never be posted (its author or
/// its parent gone, its request no longer valid) is dropped, as Mastodon
/// drops it; one that failed for a passing reason is tried again later.
async fn publish(
    state: &ApiState,
    row: &ScheduledRow,
    now: UnixMillis,
) -> Result<(), perch_db::Error> {
    let author = accounts::find_by_id(&state.db, Id::from_i64(row.account_id))
        .await?
        .filter(|a| a.suspended_at.is_none() && a.deleted_at.is_none());
    let stored = serde_json::from_str::<StoredParams>(&row.params);
    let (Some(author), Ok(stored)) = (author, stored) else {
        tracing::info!(
            scheduled = row.id,
            "a scheduled status without a usable author or request was dropped"
        );
        scheduled_statuses::remove(&state.db, row.account_id, row.id).await?;
        return Ok(());
    };
    let params = StatusParams::from_scheduled(&stored);
    match post_as(state, &author, &params, None, Some(row.id)).await {
        Ok(_) => Ok(()),
        Err(error) if error.status().is_server_error() && row.attempts < MAX_ATTEMPTS => {
            tracing::warn!(
                scheduled = row.id,
                error = error.message(),
                "publishing a scheduled status failed; it is tried again"
            );
            scheduled_statuses::retry(&state.db, row.id, now + RETRY_MILLIS).await
        }
        Err(error) => {
            tracing::info!(
                scheduled = row.id,
                error = error.message(),
                "a scheduled status that cannot be posted was dropped"
            );
            scheduled_statuses::remove(&state.db, row.account_id, row.id).await?;
            Ok(())
        }
    }
}
