//! Actor documents: `/users/:username` and the instance actor at `/actor`.
//! ActivityPub clients get JSON; browsers are sent to the profile page.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use perch_db::accounts::{self, AccountRow};
use perch_db::actors;
use serde_json::json;

use super::{internal, not_found};
use crate::ApubState;
use crate::activities::AS_CONTEXT;
use crate::objects::ACTIVITY_JSON;
use crate::objects::note::timestamp;
use crate::objects::person::person_of;

/// Whether the request asks for ActivityPub JSON (`application/activity+json`
/// or `application/ld+json` with the ActivityStreams profile, as servers
/// send them).
pub fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| {
            accept.contains("application/activity+json") || accept.contains("application/ld+json")
        })
}

pub async fn actor(
    State(state): State<ApubState>,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> Response {
    let row = match accounts::find_local_by_username(&state.db, &username).await {
        Ok(Some(row)) if row.actor_type != "Application" => row,
        Ok(_) => return not_found(),
        Err(error) => return internal(&error),
    };
    if let Some(deleted_at) = row.deleted_at {
        return gone(&row, deleted_at);
    }
    if !wants_activity_json(&headers) {
        let profile = row
            .url
            .clone()
            .unwrap_or_else(|| format!("/@{}", row.username));
        return Redirect::to(&profile).into_response();
    }
    document(&state, &row).await
}

/// A deleted account's actor: `410 Gone` with a Tombstone in its place, so
/// that a server asking after it learns it is gone for good.
fn gone(row: &AccountRow, deleted_at: i64) -> Response {
    let tombstone = json!({
        "@context": AS_CONTEXT,
        "id": row.uri,
        "type": "Tombstone",
        "formerType": row.actor_type,
        "deleted": timestamp(deleted_at),
    });
    let mut response = (StatusCode::GONE, Json(tombstone)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ACTIVITY_JSON),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

pub async fn instance_actor(State(state): State<ApubState>) -> Response {
    match actors::find_by_uri(&state.db, &state.layout.instance_actor_uri()).await {
        Ok(Some(row)) => document(&state, &row).await,
        Ok(None) => not_found(),
        Err(error) => internal(&error),
    }
}

async fn document(state: &ApubState, row: &AccountRow) -> Response {
    let actor = match actors::local_actor(&state.db, row.clone()).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return not_found(),
        Err(error) => return internal(&error),
    };
    let Some(person) = person_of(&actor) else {
        return internal(&"stored actor has invalid URLs");
    };
    let mut response = Json(person).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ACTIVITY_JSON),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}
