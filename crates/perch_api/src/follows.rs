//! Following: the client API's follow endpoints. The rules (requests for
//! locked and remote accounts, notifications, the activities remote
//! relations publish) are perch_domain's `follows`, which the inbox calls
//! too.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::follows::{self, List};
use perch_db::profiles;
use perch_domain::follows::{self as follows_domain, Answered};

use crate::accounts::relationships::{Relationship, relationship_from_row};
use crate::auth::{Auth, MaybeAuth};
use crate::entities::account::Account;
use crate::pagination::{PageParams, keyed_page};
use crate::params::Query;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts/{id}/follow", post(follow))
        .route("/api/v1/accounts/{id}/unfollow", post(unfollow))
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(remove_from_followers),
        )
        .route("/api/v1/accounts/{id}/followers", get(followers))
        .route("/api/v1/accounts/{id}/following", get(following))
        .route("/api/v1/follow_requests", get(follow_requests))
        .route("/api/v1/follow_requests/{id}/authorize", post(authorize))
        .route("/api/v1/follow_requests/{id}/reject", post(reject))
}

/// How `me` relates to `other`, in Mastodon's shape.
pub(crate) async fn relationship(
    state: &ApiState,
    me: i64,
    other: i64,
) -> Result<Relationship, ApiError> {
    let rows = profiles::relationships(&state.db, me, &[other]).await?;
    rows.first()
        .map(relationship_from_row)
        .ok_or_else(ApiError::not_found)
}

async fn account_by_path(state: &ApiState, id: &str) -> Result<AccountRow, ApiError> {
    let id: Id = id.parse().map_err(|_| ApiError::not_found())?;
    accounts::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The signed-in account (with a `write:follows` token) and the account
/// the path names.
async fn me_and_other(
    state: &ApiState,
    auth: &Auth,
    id: &str,
) -> Result<(AccountRow, AccountRow), ApiError> {
    signed_in_with(auth, true)?;
    me_and_account(state, auth, id).await
}

/// The signed-in account and the account the path names (the caller
/// checked the token's scope).
pub(crate) async fn me_and_account(
    state: &ApiState,
    auth: &Auth,
    id: &str,
) -> Result<(AccountRow, AccountRow), ApiError> {
    let me_id = auth.account_id()?;
    let other = account_by_path(state, id).await?;
    let me = accounts::find_by_id(&state.db, Id::from_i64(me_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((me, other))
}

fn signed_in_with(auth: &Auth, write: bool) -> Result<i64, ApiError> {
    if write {
        auth.require_any(&["write:follows", "follow"])?;
    } else {
        auth.require_any(&["read:follows", "follow"])?;
    }
    auth.account_id()
}

/// `POST /api/v1/accounts/:id/follow`.
async fn follow(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    let (me, target) = me_and_other(&state, &auth, &id).await?;
    follows_domain::follow(&state.domain, &me, &target, None).await?;
    Ok(Json(relationship(&state, me.id, target.id).await?))
}

/// `POST /api/v1/accounts/:id/unfollow`: also withdraws a pending request.
async fn unfollow(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    let (me, target) = me_and_other(&state, &auth, &id).await?;
    follows_domain::unfollow(&state.domain, &me, &target, None).await?;
    Ok(Json(relationship(&state, me.id, target.id).await?))
}

/// `POST /api/v1/follow_requests/:id/authorize` (the id is the requester's).
async fn authorize(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    answer_request(state, auth, id, true).await
}

/// `POST /api/v1/follow_requests/:id/reject`.
async fn reject(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    answer_request(state, auth, id, false).await
}

async fn answer_request(
    state: ApiState,
    auth: Auth,
    id: String,
    accept: bool,
) -> Result<Json<Relationship>, ApiError> {
    let (me, requester) = me_and_other(&state, &auth, &id).await?;
    let answered =
        follows_domain::answer_request(&state.domain, &requester, &me, accept, None).await?;
    if answered == Answered::NoRequest {
        return Err(ApiError::not_found());
    }
    Ok(Json(relationship(&state, me.id, requester.id).await?))
}

/// `POST /api/v1/accounts/:id/remove_from_followers`: a Reject of their
/// Follow, for remote followers.
async fn remove_from_followers(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    let (me, follower) = me_and_other(&state, &auth, &id).await?;
    follows_domain::remove_follower(&state.domain, &follower, &me, None).await?;
    Ok(Json(relationship(&state, me.id, follower.id).await?))
}

/// A page of accounts with Mastodon's `Link` header, by relation id.
pub(crate) async fn paged(
    state: &ApiState,
    path: &str,
    rows: Vec<(i64, AccountRow)>,
    limit: i64,
) -> Result<Response, ApiError> {
    let keys: Vec<i64> = rows.iter().map(|(key, _)| *key).collect();
    let accounts: Vec<Account> =
        crate::emojis::accounts(state, &rows.iter().map(|(_, row)| row).collect::<Vec<_>>())
            .await?;
    Ok(keyed_page(
        &state.config.public_url,
        path,
        &keys,
        accounts,
        limit,
    ))
}

async fn relation_list(
    state: ApiState,
    id: String,
    list: List,
    params: PageParams,
    path: String,
) -> Result<Response, ApiError> {
    let account = account_by_path(&state, &id).await?;
    let page = params.page(40, 80);
    let rows = follows::page(&state.db, list, account.id, &page).await?;
    paged(&state, &path, rows, page.limit).await
}

/// `GET /api/v1/accounts/:id/followers`.
async fn followers(
    State(state): State<ApiState>,
    _auth: MaybeAuth,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let path = format!("/api/v1/accounts/{id}/followers");
    relation_list(state, id, List::Followers, params, path).await
}

/// `GET /api/v1/accounts/:id/following`.
async fn following(
    State(state): State<ApiState>,
    _auth: MaybeAuth,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let path = format!("/api/v1/accounts/{id}/following");
    relation_list(state, id, List::Following, params, path).await
}

/// `GET /api/v1/follow_requests`.
async fn follow_requests(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = signed_in_with(&auth, false)?;
    let page = params.page(40, 80);
    let rows = follows::page(&state.db, List::Requests, me, &page).await?;
    paged(&state, "/api/v1/follow_requests", rows, page.limit).await
}
