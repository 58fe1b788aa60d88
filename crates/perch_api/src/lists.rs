//! Lists: `/api/v1/lists` (one's lists, made, renamed and deleted),
//! `/api/v1/lists/:id/accounts` (their members, accounts one follows),
//! `/api/v1/accounts/:id/lists` (one's lists an account is in) and the
//! list timeline, `/api/v1/timelines/list/:id`. The rules are
//! perch_domain's `lists`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::lists::{self, ListRow};
use perch_domain::lists::ListChanges;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::entities::list::{List, list_from_row};
use crate::pagination::{PageParams, keyed_page, link_header, paged_json};
use crate::params::{Params, Query, lenient_bool};
use crate::statuses::filtering::FilterScope;
use crate::statuses::view::render_in;
use crate::{ApiError, ApiState};

const DEFAULT_STATUSES: i64 = 20;
const MAX_STATUSES: i64 = 40;
const DEFAULT_MEMBERS: i64 = 40;
const MAX_MEMBERS: i64 = 80;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/lists", get(index).post(create))
        .route("/api/v1/lists/{id}", get(show).put(update).delete(delete))
        .route(
            "/api/v1/lists/{id}/accounts",
            get(members).post(add_members).delete(remove_members),
        )
        .route("/api/v1/accounts/{id}/lists", get(containing))
        .route("/api/v1/timelines/list/{id}", get(timeline))
}

/// The signed-in account's list the path names.
async fn own_list(state: &ApiState, me: i64, id: &str) -> Result<ListRow, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    lists::find(&state.db, id, me)
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn signed_in(state: &ApiState, auth: &Auth, scope: &str) -> Result<AccountRow, ApiError> {
    auth.require(scope)?;
    accounts::find_by_id(&state.db, Id::from_i64(auth.account_id()?))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/lists`: all of one's lists, oldest first.
async fn index(State(state): State<ApiState>, auth: Auth) -> Result<Json<Vec<List>>, ApiError> {
    auth.require("read:lists")?;
    let rows = lists::of_account(&state.db, auth.account_id()?).await?;
    Ok(Json(rows.iter().map(list_from_row).collect()))
}

#[derive(Debug, Default, Deserialize)]
struct ListParams {
    title: Option<String>,
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    exclusive: Option<bool>,
}

impl From<ListParams> for ListChanges {
    fn from(params: ListParams) -> Self {
        ListChanges {
            title: params.title,
            replies_policy: params.replies_policy.filter(|p| !p.is_empty()),
            exclusive: params.exclusive,
        }
    }
}

/// `POST /api/v1/lists`: `title`, and optionally `replies_policy`
/// (`list` unless said) and `exclusive`.
async fn create(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<ListParams>,
) -> Result<Json<List>, ApiError> {
    let me = signed_in(&state, &auth, "write:lists").await?;
    let list = perch_domain::lists::create(&state.domain, &me, params.into()).await?;
    Ok(Json(list_from_row(&list)))
}

/// `GET /api/v1/lists/:id`.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<List>, ApiError> {
    auth.require("read:lists")?;
    let list = own_list(&state, auth.account_id()?, &id).await?;
    Ok(Json(list_from_row(&list)))
}

/// `PUT /api/v1/lists/:id`: what is given changes, the rest stays.
async fn update(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<ListParams>,
) -> Result<Json<List>, ApiError> {
    auth.require("write:lists")?;
    let list = own_list(&state, auth.account_id()?, &id).await?;
    let list = perch_domain::lists::update(&state.domain, &list, params.into()).await?;
    Ok(Json(list_from_row(&list)))
}

/// `DELETE /api/v1/lists/:id`: answers `{}`.
async fn delete(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require("write:lists")?;
    let list = own_list(&state, auth.account_id()?, &id).await?;
    perch_domain::lists::delete(&state.domain, &list).await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Default, Deserialize)]
struct MembersPage {
    #[serde(flatten)]
    page: PageParams,
    limit: Option<String>,
}

/// `GET /api/v1/lists/:id/accounts`: latest added first, 40 a page;
/// `limit=0` gives them all at once, as Mastodon does.
async fn members(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(params): Query<MembersPage>,
) -> Result<Response, ApiError> {
    auth.require_any(&["read:lists", "read:accounts"])?;
    let list = own_list(&state, auth.account_id()?, &id).await?;
    let all = params.limit.as_deref().map(str::trim) == Some("0");
    let mut page = params.page.page(DEFAULT_MEMBERS, MAX_MEMBERS);
    if let Some(limit) = params.limit.as_deref().and_then(|l| l.parse::<i64>().ok()) {
        page.limit = limit.clamp(1, MAX_MEMBERS);
    }
    if all {
        page.limit = i64::MAX;
    }
    let rows = lists::members(&state.db, list.id, &page).await?;
    let keys: Vec<i64> = rows.iter().map(|(key, _)| *key).collect();
    let items =
        crate::emojis::accounts(&state, &rows.iter().map(|(_, a)| a).collect::<Vec<_>>()).await?;
    if all {
        return Ok(paged_json::<crate::entities::Account>(items, None));
    }
    let path = format!("/api/v1/lists/{}/accounts", list.id);
    Ok(keyed_page(
        &state.config.public_url,
        &path,
        &keys,
        items,
        page.limit,
    ))
}

#[derive(Debug, Default, Deserialize)]
struct AccountIds {
    #[serde(default, rename = "account_ids[]", alias = "account_ids")]
    account_ids: Vec<String>,
}

/// The accounts named, every one of which must exist.
async fn named_accounts(state: &ApiState, ids: &[String]) -> Result<Vec<AccountRow>, ApiError> {
    let mut wanted = Vec::with_capacity(ids.len());
    for id in ids {
        let id: i64 = id.trim().parse().map_err(|_| ApiError::not_found())?;
        if !wanted.contains(&id) {
            wanted.push(id);
        }
    }
    let found = accounts::find_many(&state.db, &wanted).await?;
    if found.len() != wanted.len() {
        return Err(ApiError::not_found());
    }
    Ok(found)
}

/// `POST /api/v1/lists/:id/accounts` with `account_ids[]`: accounts one
/// follows (422 otherwise, and none is added). Answers `{}`.
async fn add_members(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<AccountIds>,
) -> Result<Json<Value>, ApiError> {
    auth.require("write:lists")?;
    let list = own_list(&state, auth.account_id()?, &id).await?;
    let accounts = named_accounts(&state, &params.account_ids).await?;
    perch_domain::lists::add_accounts(&state.domain, &list, &accounts).await?;
    Ok(Json(json!({})))
}

/// `DELETE /api/v1/lists/:id/accounts` with `account_ids[]`. Answers `{}`.
async fn remove_members(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<AccountIds>,
) -> Result<Json<Value>, ApiError> {
    auth.require("write:lists")?;
    let list = own_list(&state, auth.account_id()?, &id).await?;
    let ids: Vec<i64> = params
        .account_ids
        .iter()
        .filter_map(|id| id.trim().parse().ok())
        .collect();
    perch_domain::lists::remove_accounts(&state.domain, &list, &ids).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/accounts/:id/lists`: one's lists the account is in.
async fn containing(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<List>>, ApiError> {
    auth.require("read:lists")?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let account = accounts::find_by_id(&state.db, Id::from_i64(id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let rows = lists::containing(&state.db, auth.account_id()?, account.id).await?;
    Ok(Json(rows.iter().map(list_from_row).collect()))
}

/// `GET /api/v1/timelines/list/:id`: the members' statuses the list shows,
/// newest first.
async fn timeline(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require_any(&["read:lists", "read:statuses"])?;
    let me = auth.account_id()?;
    let list = own_list(&state, me, &id).await?;
    let page = params.page(DEFAULT_STATUSES, MAX_STATUSES);
    let rows = lists::timeline(&state.db, list.id, me, &page).await?;
    let base = format!(
        "{}api/v1/timelines/list/{}",
        state.config.public_url, list.id
    );
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.id, o.id));
    let link = link_header(&base, "", bounds, rows.len(), page.limit);
    // Lists are read with the home timeline's filters, as Mastodon's are.
    let scope = FilterScope::timeline(perch_core::filter::FilterContext::Home);
    Ok(paged_json(render_in(&state, me, &rows, scope).await?, link))
}
