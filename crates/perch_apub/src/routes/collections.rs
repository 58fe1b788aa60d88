//! An actor's collections: followers, following (paged
//! `OrderedCollection`s of actor ids) and the outbox.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use perch_db::accounts::{self, AccountRow};
use perch_db::follows::{self, List, Page};
use perch_db::timelines::{self, AccountFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use super::not_found;
use crate::ApubState;
use crate::activities::create::build_create;
use crate::objects::ACTIVITY_JSON;
use crate::objects::note::build_note;
use perch_domain::describe::load_status_note;

const PAGE_SIZE: i64 = 40;
/// Outbox pages embed whole activities, so they are shorter.
const OUTBOX_PAGE_SIZE: i64 = 20;

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    max_id: Option<i64>,
}

pub async fn followers(
    State(state): State<ApubState>,
    Path(username): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    relation(&state, &username, List::Followers, "followers", query).await
}

pub async fn following(
    State(state): State<ApubState>,
    Path(username): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    relation(&state, &username, List::Following, "following", query).await
}

/// The outbox: the Create activities of the account's public and unlisted
/// statuses, newest first, paged by status id.
pub async fn outbox(
    State(state): State<ApubState>,
    Path(username): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let Some(account) = local_account(&state, &username).await else {
        return not_found();
    };
    let id = format!("{}/outbox", account.uri);
    let total = account.statuses_count.max(0);
    if query.page.is_none() {
        return activity_json(collection(&id, total));
    }
    let bounds = Page {
        max_id: query.max_id,
        since_id: None,
        min_id: None,
        limit: OUTBOX_PAGE_SIZE,
    };
    let filter = AccountFilter {
        exclude_replies: false,
        exclude_reblogs: true,
        only_media: false,
    };
    let rows = match timelines::account(&state.db, account.id, 0, filter, &bounds).await {
        Ok(rows) => rows,
        Err(error) => return failed(&error),
    };
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        match load_status_note(&state.db, &state.layout, &state.config.domain, row).await {
            Ok(Some(note)) => items.push(build_create(&note)),
            Ok(None) => {}
            Err(error) => return failed(&error),
        }
    }
    let mut body = page(&id, total, query.max_id, items);
    if rows.len() as i64 == OUTBOX_PAGE_SIZE {
        if let Some(last) = rows.last() {
            body["next"] = Value::from(format!("{id}?page=true&max_id={}", last.id));
        }
    }
    activity_json(body)
}

/// `/users/:username/collections/featured`: the pinned statuses that
/// anyone may read (public and unlisted), as Notes, latest pin first.
pub async fn featured(State(state): State<ApubState>, Path(username): Path<String>) -> Response {
    let Some(account) = local_account(&state, &username).await else {
        return not_found();
    };
    let rows = match perch_db::pins::pinned(&state.db, account.id, 0, MAX_FEATURED).await {
        Ok(rows) => rows,
        Err(error) => return failed(&error),
    };
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        match load_status_note(&state.db, &state.layout, &state.config.domain, row).await {
            Ok(Some(note)) => items.push(build_note(&note)),
            Ok(None) => {}
            Err(error) => return failed(&error),
        }
    }
    activity_json(json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": perch_domain::urls::featured_of(&account.uri),
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    }))
}

/// Pins listed in a `featured` collection (a local account has at most
/// five).
const MAX_FEATURED: i64 = 20;

fn failed(error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "collection page failed");
    axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// The collection itself: its size and where its first page is.
fn collection(id: &str, total: i64) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": format!("{id}?page=true"),
    })
}

/// One page of `id`, starting below `max_id` when given.
fn page(id: &str, total: i64, max_id: Option<i64>, items: Vec<Value>) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": match max_id {
            Some(max) => format!("{id}?page=true&max_id={max}"),
            None => format!("{id}?page=true"),
        },
        "type": "OrderedCollectionPage",
        "totalItems": total,
        "partOf": id,
        "orderedItems": items,
    })
}

async fn local_account(state: &ApubState, username: &str) -> Option<AccountRow> {
    match accounts::find_local_by_username(&state.db, username).await {
        // A suspended account's collections are no longer served.
        Ok(Some(row)) if row.actor_type != "Application" && row.suspended_at.is_none() => Some(row),
        _ => None,
    }
}

async fn relation(
    state: &ApubState,
    username: &str,
    list: List,
    name: &str,
    query: PageQuery,
) -> Response {
    let Some(account) = local_account(state, username).await else {
        return not_found();
    };
    let id = format!("{}/{name}", account.uri);
    let total = match list {
        List::Followers => account.followers_count,
        _ => account.following_count,
    }
    .max(0);
    if query.page.is_none() {
        return activity_json(collection(&id, total));
    }
    let bounds = Page {
        max_id: query.max_id,
        since_id: None,
        min_id: None,
        limit: PAGE_SIZE,
    };
    let rows = match follows::page(&state.db, list, account.id, &bounds).await {
        Ok(rows) => rows,
        Err(error) => return failed(&error),
    };
    let items: Vec<Value> = rows
        .iter()
        .map(|(_, row)| Value::from(row.uri.as_str()))
        .collect();
    let mut body = page(&id, total, query.max_id, items);
    if rows.len() as i64 == PAGE_SIZE {
        if let Some((last, _)) = rows.last() {
            body["next"] = Value::from(format!("{id}?page=true&max_id={last}"));
        }
    }
    activity_json(body)
}

fn activity_json(body: Value) -> Response {
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ACTIVITY_JSON),
    );
    response
}
