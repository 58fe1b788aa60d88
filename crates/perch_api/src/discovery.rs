//! What Mastodon's apps show to help people find their way: the servers
//! this one knows (`/api/v1/instance/peers`), its weekly activity
//! (`/api/v1/instance/activity`), the servers it blocks where the operator
//! makes them public (`/api/v1/instance/domain_blocks`), the hashtags and
//! posts trending here (`/api/v1/trends/…`, from this server's own recent
//! public posts, nothing from outside) and the accounts it suggests
//! (`/api/v2/suggestions`, `/api/v1/suggestions`).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::{delete, get};
use perch_core::id::Id;
use perch_core::time::now_millis;
use perch_db::discovery::{self, Source};
use perch_db::{accounts, domain_blocks};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Auth, MaybeAuth};
use crate::pagination::paged_json;
use crate::params::Query;
use crate::statuses::view::render;
use crate::tags::TagItem;
use crate::{ApiError, ApiState, DomainBlocksShown};

const DAY: i64 = 24 * 3600 * 1000;
/// How far back trends look.
const TREND_DAYS: i64 = 7;
/// Statuses trend for two days.
const STATUS_TREND_DAYS: i64 = 2;
/// Local accounts suggested are those that posted this recently.
const ACTIVE_DAYS: i64 = 30;
/// The most peers listed.
const MAX_PEERS: i64 = 10_000;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/instance/peers", get(peers))
        .route("/api/v1/instance/activity", get(activity))
        .route("/api/v1/instance/domain_blocks", get(blocked_servers))
        .route("/api/v1/trends", get(trending_tags))
        .route("/api/v1/trends/tags", get(trending_tags))
        .route("/api/v1/trends/statuses", get(trending_statuses))
        .route("/api/v1/trends/links", get(trending_links))
        .route("/api/v2/suggestions", get(suggestions_v2))
        .route("/api/v1/suggestions", get(suggestions_v1))
        .route("/api/v1/suggestions/{account_id}", delete(dismiss))
}

/// `GET /api/v1/instance/peers`.
async fn peers(State(state): State<ApiState>) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(discovery::peers(&state.db, MAX_PEERS).await?))
}

/// `GET /api/v1/instance/activity`: the last 12 weeks, this one first,
/// each from Monday 00:00 UTC, counts as strings as Mastodon sends them.
async fn activity(State(state): State<ApiState>) -> Result<Json<Vec<Value>>, ApiError> {
    let now = now_millis();
    // 1970-01-01 was a Thursday: Mondays are 4 days later modulo a week.
    let week = 7 * DAY;
    let monday = (now - 4 * DAY).div_euclid(week) * week + 4 * DAY;
    let mut weeks = Vec::with_capacity(12);
    for n in 0..12 {
        let from = monday - n * week;
        let counts = discovery::activity(&state.db, from, from + week).await?;
        weeks.push(json!({
            "week": (from / 1000).to_string(),
            "statuses": counts.statuses.to_string(),
            "logins": counts.logins.to_string(),
            "registrations": counts.registrations.to_string(),
        }));
    }
    Ok(Json(weeks))
}

/// `GET /api/v1/instance/domain_blocks`: Mastodon's DomainBlock entities
/// (an obfuscated domain shows every other character as `*`; its digest
/// still lets a server check its own name).
async fn blocked_servers(
    State(state): State<ApiState>,
    auth: MaybeAuth,
) -> Result<Json<Vec<Value>>, ApiError> {
    match state.config.public_domain_blocks {
        DomainBlocksShown::Nobody => return Err(ApiError::not_found()),
        DomainBlocksShown::Users if auth.0.is_none() => {
            return Err(ApiError::unauthorized(
                "This API requires an authenticated user",
            ));
        }
        _ => {}
    }
    let rows = domain_blocks::all_blocks(&state.db).await?;
    Ok(Json(
        rows.iter()
            .map(|row| {
                let digest =
                    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, row.domain.as_bytes());
                let digest: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
                let domain = if row.obfuscate {
                    row.domain
                        .chars()
                        .enumerate()
                        .map(|(i, c)| if i % 2 == 1 && c != '.' { '*' } else { c })
                        .collect()
                } else {
                    row.domain.clone()
                };
                json!({
                    "domain": domain,
                    "digest": digest,
                    "severity": row.severity,
                    "comment": (!row.public_comment.is_empty()).then_some(&row.public_comment),
                })
            })
            .collect(),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct OffsetParams {
    limit: Option<String>,
    offset: Option<String>,
}

impl OffsetParams {
    fn limit_and_offset(&self, default: i64, max: i64) -> (i64, i64) {
        let number = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<i64>().ok());
        (
            number(&self.limit).unwrap_or(default).clamp(1, max),
            number(&self.offset).unwrap_or(0).max(0),
        )
    }
}

/// A `Link` to the next page by offset, when this one is full.
fn next_by_offset(
    state: &ApiState,
    path: &str,
    count: usize,
    limit: i64,
    offset: i64,
) -> Option<HeaderValue> {
    if (count as i64) < limit {
        return None;
    }
    let base = state.config.public_url.as_str().trim_end_matches('/');
    let next = offset + limit;
    HeaderValue::try_from(format!(
        "<{base}{path}?limit={limit}&offset={next}>; rel=\"next\""
    ))
    .ok()
}

/// `GET /api/v1/trends/tags` (and `/api/v1/trends`).
async fn trending_tags(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Query(params): Query<OffsetParams>,
) -> Result<Response, ApiError> {
    let viewer = auth
        .0
        .as_ref()
        .map_or(0, |auth| auth.account_id().unwrap_or(0));
    let (limit, offset) = params.limit_and_offset(10, 20);
    let now = now_millis();
    let today = now / DAY;
    let since = (today - TREND_DAYS + 1) * DAY;
    let tags = discovery::trending_tags(&state.db, since, limit, offset).await?;
    let items = tags
        .iter()
        .map(|(name, days)| TagItem {
            name: name.clone(),
            history: crate::tags::history(days, TREND_DAYS, now),
        })
        .collect();
    let items = crate::tags::entities(&state, viewer, items).await?;
    let link = next_by_offset(&state, "/api/v1/trends/tags", items.len(), limit, offset);
    Ok(paged_json(items, link))
}

/// `GET /api/v1/trends/statuses`.
async fn trending_statuses(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Query(params): Query<OffsetParams>,
) -> Result<Response, ApiError> {
    let viewer = match &auth.0 {
        Some(auth) => auth.account_id().unwrap_or(0),
        None => 0,
    };
    let (limit, offset) = params.limit_and_offset(20, 40);
    let since = now_millis() - STATUS_TREND_DAYS * DAY;
    let rows = discovery::trending_statuses(&state.db, viewer, since, limit, offset).await?;
    let found = rows.len();
    let statuses = render(&state, viewer, &rows).await?;
    let link = next_by_offset(&state, "/api/v1/trends/statuses", found, limit, offset);
    Ok(paged_json(statuses, link))
}

/// `GET /api/v1/trends/links`: links trend with their preview cards,
/// which this server does not make; none trend.
async fn trending_links() -> Json<Vec<Value>> {
    Json(Vec::new())
}

#[derive(Debug, Default, Deserialize)]
pub struct LimitParams {
    limit: Option<String>,
}

async fn suggested(
    state: &ApiState,
    auth: &Auth,
    params: &LimitParams,
) -> Result<Vec<(Value, Source)>, ApiError> {
    auth.require_any(&["read", "read:accounts"])?;
    let viewer = auth.account_id()?;
    let limit = params
        .limit
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(40)
        .clamp(1, 80);
    let since = now_millis() - ACTIVE_DAYS * DAY;
    let found = discovery::suggestions(&state.db, viewer, since, limit).await?;
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let rows = accounts::find_many(&state.db, &ids).await?;
    let mut out = Vec::with_capacity(found.len());
    for (id, source) in found {
        if let Some(row) = rows.iter().find(|row| row.id == id) {
            let account = crate::emojis::account(state, row).await?;
            let account = serde_json::to_value(account).map_err(|e| ApiError::internal(&e))?;
            out.push((account, source));
        }
    }
    Ok(out)
}

/// `GET /api/v2/suggestions`: Mastodon's Suggestion entities.
async fn suggestions_v2(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<LimitParams>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let found = suggested(&state, &auth, &params).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|(account, source)| {
                let (legacy, source) = match source {
                    Source::FriendsOfFriends => ("past_interactions", "friends_of_friends"),
                    Source::MostActiveLocal => ("global", "most_interactions"),
                };
                json!({ "source": legacy, "sources": [source], "account": account })
            })
            .collect(),
    ))
}

/// `GET /api/v1/suggestions`: the accounts only.
async fn suggestions_v1(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<LimitParams>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let found = suggested(&state, &auth, &params).await?;
    Ok(Json(
        found.into_iter().map(|(account, _)| account).collect(),
    ))
}

/// `DELETE /api/v1/suggestions/:account_id`: not suggested again.
async fn dismiss(
    State(state): State<ApiState>,
    auth: Auth,
    Path(account_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["read", "read:accounts"])?;
    let viewer = auth.account_id()?;
    let id: Id = account_id.parse().map_err(|_| ApiError::not_found())?;
    let target = accounts::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    discovery::dismiss_suggestion(&state.db, viewer, target.id, now_millis()).await?;
    Ok(Json(json!({})))
}
