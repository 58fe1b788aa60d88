//! Following: the client API's follow endpoints and the domain rules behind
//! them. Remote relations also publish their activity (Follow, Undo,
//! Accept, Reject) through the federation layer, in the same transaction.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_apub::publish::{self, actor_ref};
use perch_core::id::Id;
use perch_core::outbound::Outbound;
use perch_core::time::now_millis;
use perch_db::accounts::{self, AccountRow};
use perch_db::follows::{self, Kind, List, NewFollow};
use perch_db::live::LiveEvent;
use perch_db::notifications::{self, NewNotification};
use perch_db::profiles;

use crate::accounts::relationships::{Relationship, relationship_from_row};
use crate::auth::{Auth, MaybeAuth};
use crate::entities::account::{Account, account_from_row};
use crate::pagination::{PageParams, link_header, paged_json};
use crate::params::Query;
use crate::statuses::publish_in;
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
async fn relationship(state: &ApiState, me: i64, other: i64) -> Result<Relationship, ApiError> {
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
    let me_id = signed_in_with(auth, true)?;
    let other = account_by_path(state, id).await?;
    let me = accounts::find_by_id(&state.db, Id::from_i64(me_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((me, other))
}

/// Tell local `account_id` that `from` follows or asks to.
async fn notify(
    state: &ApiState,
    tx: &mut perch_db::Tx,
    account_id: i64,
    from: i64,
    kind: &str,
) -> Result<Option<LiveEvent>, ApiError> {
    let notification = NewNotification {
        id: state.ids.next_id().as_i64(),
        account_id,
        from_account_id: from,
        kind,
        status_id: None,
        created_at: now_millis(),
    };
    Ok(notifications::insert(tx, &notification).await?)
}

/// Commit, wake the delivery worker, and answer with the relationship.
async fn finish(
    state: &ApiState,
    tx: perch_db::Tx,
    me: &AccountRow,
    other: &AccountRow,
) -> Result<Json<Relationship>, ApiError> {
    tx.commit().await?;
    state.federation.delivery_wake.notify_one();
    Ok(Json(relationship(state, me.id, other.id).await?))
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
    let me_id = signed_in_with(&auth, true)?;
    let target = account_by_path(&state, &id).await?;
    if target.id == me_id || target.actor_type == "Application" {
        return Err(ApiError::forbidden("This action is not allowed"));
    }
    let me = accounts::find_by_id(&state.db, Id::from_i64(me_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let known = follows::find(&state.db, Kind::Follow, me.id, target.id)
        .await?
        .is_some()
        || follows::find(&state.db, Kind::Request, me.id, target.id)
            .await?
            .is_some();
    if !known {
        let remote = target.domain.is_some();
        let follow_uri = publish::new_activity_uri(&state.federation.layout, &state.ids);
        let relation = NewFollow {
            id: state.ids.next_id().as_i64(),
            account_id: me.id,
            target_account_id: target.id,
            uri: Some(follow_uri.clone()),
            created_at: now_millis(),
        };
        let mut tx = state.db.begin().await?;
        let mut live = Vec::new();
        let requested = remote || target.locked;
        if requested {
            follows::insert_request(&mut tx, &relation).await?;
        } else {
            follows::insert_follow(&mut tx, &relation).await?;
        }
        if !remote {
            let kind = if requested {
                "follow_request"
            } else {
                "follow"
            };
            live.extend(notify(&state, &mut tx, target.id, me.id, kind).await?);
        }
        if remote {
            let event = Outbound::Follow {
                follow_uri,
                follower: actor_ref(&me),
                target: actor_ref(&target),
            };
            publish_in(&state, &mut tx, event).await?;
        }
        tx.commit().await?;
        state.federation.delivery_wake.notify_one();
        state.federation.bus.publish(&live).await;
    }
    Ok(Json(relationship(&state, me.id, target.id).await?))
}

/// `POST /api/v1/accounts/:id/unfollow`: also withdraws a pending request.
async fn unfollow(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    let (me, target) = me_and_other(&state, &auth, &id).await?;
    let mut tx = state.db.begin().await?;
    let removed = match follows::delete_follow(&mut tx, me.id, target.id).await? {
        Some(row) => Some(row),
        None => follows::delete_request(&mut tx, me.id, target.id).await?,
    };
    if removed.is_some() && target.domain.is_none() {
        notifications::retract(&mut tx, target.id, me.id, "follow", None).await?;
        notifications::retract(&mut tx, target.id, me.id, "follow_request", None).await?;
    }
    if let (Some(row), Some(_)) = (&removed, &target.domain) {
        let follow_uri = row
            .uri
            .clone()
            .unwrap_or_else(|| publish::new_activity_uri(&state.federation.layout, &state.ids));
        let event = Outbound::UndoFollow {
            follow_uri,
            follower: actor_ref(&me),
            target: actor_ref(&target),
        };
        publish_in(&state, &mut tx, event).await?;
    }
    finish(&state, tx, &me, &target).await
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
    let mut tx = state.db.begin().await?;
    let Some(request) = follows::delete_request(&mut tx, requester.id, me.id).await? else {
        return Err(ApiError::not_found());
    };
    notifications::retract(&mut tx, me.id, requester.id, "follow_request", None).await?;
    if accept {
        let follow = NewFollow {
            id: state.ids.next_id().as_i64(),
            account_id: requester.id,
            target_account_id: me.id,
            uri: request.uri.clone(),
            created_at: now_millis(),
        };
        follows::insert_follow(&mut tx, &follow).await?;
    }
    if requester.domain.is_some() {
        let follow_uri = request.uri.clone().unwrap_or_default();
        let (follower, target) = (actor_ref(&requester), actor_ref(&me));
        let event = if accept {
            Outbound::AcceptFollow {
                follow_uri,
                follower,
                target,
            }
        } else {
            Outbound::RejectFollow {
                follow_uri,
                follower,
                target,
            }
        };
        publish_in(&state, &mut tx, event).await?;
    }
    finish(&state, tx, &me, &requester).await
}

/// `POST /api/v1/accounts/:id/remove_from_followers`: a Reject of their
/// Follow, for remote followers.
async fn remove_from_followers(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Relationship>, ApiError> {
    let (me, follower) = me_and_other(&state, &auth, &id).await?;
    let mut tx = state.db.begin().await?;
    let removed = follows::delete_follow(&mut tx, follower.id, me.id).await?;
    if let (Some(row), Some(_)) = (&removed, &follower.domain) {
        let follow_uri = row.uri.clone().unwrap_or_default();
        let event = Outbound::RejectFollow {
            follow_uri,
            follower: actor_ref(&follower),
            target: actor_ref(&me),
        };
        publish_in(&state, &mut tx, event).await?;
    }
    finish(&state, tx, &me, &follower).await
}

/// A page of accounts with Mastodon's `Link` header, by relation id.
fn paged(state: &ApiState, path: &str, rows: Vec<(i64, AccountRow)>, limit: i64) -> Response {
    let base = format!(
        "{}{path}",
        state.config.public_url.as_str().trim_end_matches('/')
    );
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.0, o.0));
    let link = link_header(&base, "", bounds, rows.len(), limit);
    let accounts: Vec<Account> = rows
        .iter()
        .map(|(_, row)| account_from_row(row, &state.config.public_url))
        .collect();
    paged_json(accounts, link)
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
    Ok(paged(&state, &path, rows, page.limit))
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
    Ok(paged(&state, "/api/v1/follow_requests", rows, page.limit))
}
