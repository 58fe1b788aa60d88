//! Keeping accounts away, through the client API: blocks, mutes and a
//! user's blocks of whole servers, in Mastodon's paths and shapes. What
//! they do (follows ended, Block published, what stays out of timelines,
//! notifications, streams and chat) is perch_domain's `blocks`, which the
//! inbox calls for a received Block too.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_db::blocks::{self, List};
use perch_domain::blocks::{self as blocks_domain, MuteSettings};
use serde::{Deserialize, Serialize};

use crate::accounts::relationships::Relationship;
use crate::auth::Auth;
use crate::entities::account::{Account, account_from_row};
use crate::entities::iso8601_millis;
use crate::follows::{me_and_account, paged, relationship};
use crate::pagination::{PageParams, keyed_page};
use crate::params::{Params, Query, lenient_bool};
use crate::{ApiError, ApiState};

/// Longest mute `duration` taken, in seconds (ten years): longer is
/// forever, which is what `0` asks for.
const MAX_MUTE_SECONDS: i64 = 10 * 365 * 24 * 3600;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts/{id}/block", post(block))
        .route("/api/v1/accounts/{id}/unblock", post(unblock))
        .route("/api/v1/accounts/{id}/mute", post(mute))
        .route("/api/v1/accounts/{id}/unmute", post(unmute))
        .route("/api/v1/blocks", get(blocked))
        .route("/api/v1/mutes", get(muted))
        .route(
            "/api/v1/domain_blocks",
            get(domain_blocks).post(block_domain).delete(unblock_domain),
        )
}

/// `POST /api/v1/accounts/:id/block`.
async fn block(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    auth.require("write:blocks")?;
    let (me, target) = me_and_account(&state, &auth, &id).await?;
    blocks_domain::block(&state.domain, &me, &target, None).await?;
    Ok(Json(relationship(&state, me.id, target.id).await?))
}

/// `POST /api/v1/accounts/:id/unblock`.
async fn unblock(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    auth.require("write:blocks")?;
    let (me, target) = me_and_account(&state, &auth, &id).await?;
    blocks_domain::unblock(&state.domain, &me, &target, None).await?;
    Ok(Json(relationship(&state, me.id, target.id).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct MuteParams {
    /// Hide the account's notifications too (default true).
    #[serde(default, deserialize_with = "lenient_bool")]
    notifications: Option<bool>,
    /// Seconds until the mute ends; 0 or absent: never.
    #[serde(default)]
    duration: Option<serde_json::Value>,
}

impl MuteParams {
    fn settings(&self, now: i64) -> Result<MuteSettings, ApiError> {
        let seconds = match &self.duration {
            None | Some(serde_json::Value::Null) => 0,
            Some(serde_json::Value::Number(n)) => n.as_i64().ok_or_else(bad_duration)?,
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => 0,
            Some(serde_json::Value::String(s)) => s.trim().parse().map_err(|_| bad_duration())?,
            Some(_) => return Err(bad_duration()),
        };
        if seconds < 0 {
            return Err(bad_duration());
        }
        Ok(MuteSettings {
            notifications: self.notifications.unwrap_or(true),
            expires_at: (seconds > 0 && seconds <= MAX_MUTE_SECONDS).then(|| now + seconds * 1000),
        })
    }
}

fn bad_duration() -> ApiError {
    ApiError::unprocessable("Validation failed: duration must be a number of seconds, 0 or more")
}

/// `POST /api/v1/accounts/:id/mute`: again, to change how.
async fn mute(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<MuteParams>,
) -> Result<Json<Relationship>, ApiError> {
    auth.require("write:mutes")?;
    let settings = params.settings(perch_core::time::now_millis())?;
    let (me, target) = me_and_account(&state, &auth, &id).await?;
    blocks_domain::mute(&state.domain, &me, &target, settings).await?;
    Ok(Json(relationship(&state, me.id, target.id).await?))
}

/// `POST /api/v1/accounts/:id/unmute`.
async fn unmute(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    auth.require("write:mutes")?;
    let (me, target) = me_and_account(&state, &auth, &id).await?;
    blocks_domain::unmute(&state.domain, &me, &target).await?;
    Ok(Json(relationship(&state, me.id, target.id).await?))
}

/// `GET /api/v1/blocks`: newest first.
async fn blocked(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require("read:blocks")?;
    let me = auth.account_id()?;
    let page = params.page(40, 80);
    let rows = blocks::page(&state.db, List::Blocked, me, &page).await?;
    paged(&state, "/api/v1/blocks", rows, page.limit).await
}

/// Mastodon's MutedAccount: an Account and when its mute ends.
#[derive(Debug, Serialize)]
struct MutedAccount {
    #[serde(flatten)]
    account: Account,
    mute_expires_at: Option<String>,
}

/// `GET /api/v1/mutes`: newest first, each with its mute's end.
async fn muted(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require("read:mutes")?;
    let me = auth.account_id()?;
    let page = params.page(40, 80);
    let rows = blocks::page(&state.db, List::Muted, me, &page).await?;
    let targets: Vec<i64> = rows.iter().map(|(_, a)| a.id).collect();
    let expiries: std::collections::HashMap<i64, Option<i64>> =
        blocks::mute_expiries(&state.db, me, &targets)
            .await?
            .into_iter()
            .collect();
    let keys: Vec<i64> = rows.iter().map(|(key, _)| *key).collect();
    let emojis = crate::emojis::of_accounts(
        &state.db,
        &rows.iter().map(|(_, row)| row).collect::<Vec<_>>(),
    )
    .await?;
    let items = rows
        .iter()
        .map(|(_, row)| MutedAccount {
            account: crate::emojis::with_emojis(
                account_from_row(row, &state.config.public_url),
                row,
                &emojis,
            ),
            mute_expires_at: expiries.get(&row.id).copied().flatten().map(iso8601_millis),
        })
        .collect();
    Ok(keyed_page(
        &state.config.public_url,
        "/api/v1/mutes",
        &keys,
        items,
        page.limit,
    ))
}

/// `GET /api/v1/domain_blocks`: the blocked servers' names, newest first.
async fn domain_blocks(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require("read:blocks")?;
    let me = auth.account_id()?;
    let page = params.page(100, 200);
    let rows = blocks::domain_block_page(&state.db, me, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|(key, _)| *key).collect();
    let names: Vec<String> = rows.into_iter().map(|(_, name)| name).collect();
    Ok(keyed_page(
        &state.config.public_url,
        "/api/v1/domain_blocks",
        &keys,
        names,
        page.limit,
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct DomainParams {
    domain: Option<String>,
}

impl DomainParams {
    fn domain(&self) -> Result<&str, ApiError> {
        self.domain
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .ok_or_else(|| ApiError::unprocessable("Validation failed: Domain can't be blank"))
    }
}

/// `POST /api/v1/domain_blocks`: answers `{}`, blocked before or not.
async fn block_domain(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<DomainParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:blocks")?;
    let me = me_row(&state, &auth).await?;
    blocks_domain::block_domain(&state.domain, &me, params.domain()?).await?;
    Ok(Json(serde_json::json!({})))
}

/// `DELETE /api/v1/domain_blocks`: answers `{}`, blocked before or not.
async fn unblock_domain(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<DomainParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:blocks")?;
    let me = me_row(&state, &auth).await?;
    blocks_domain::unblock_domain(&state.domain, &me, params.domain()?).await?;
    Ok(Json(serde_json::json!({})))
}

async fn me_row(state: &ApiState, auth: &Auth) -> Result<perch_db::accounts::AccountRow, ApiError> {
    let id = auth.account_id()?;
    perch_db::accounts::find_by_id(&state.db, perch_core::id::Id::from_i64(id))
        .await?
        .ok_or_else(ApiError::not_found)
}
