//! A local status as ActivityPub: `/users/:username/statuses/:id` (the
//! Note) and `…/activity` (its Create). Only public and unlisted statuses
//! are served; anything else is "not found", so that its existence does not
//! leak either.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use perch_core::status::Visibility;
use perch_db::statuses::{self, StatusRow};

use super::{internal, not_found};
use crate::ApubState;
use crate::activities::create::build_create;
use crate::objects::ACTIVITY_JSON;
use crate::objects::note::{build_note, note_context};
use perch_domain::describe::load_status_note;

pub async fn note(
    State(state): State<ApubState>,
    Path((username, id)): Path<(String, String)>,
) -> Response {
    serve(&state, &username, &id, false).await
}

pub async fn create(
    State(state): State<ApubState>,
    Path((username, id)): Path<(String, String)>,
) -> Response {
    serve(&state, &username, &id, true).await
}

async fn serve(state: &ApubState, username: &str, id: &str, activity: bool) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return not_found();
    };
    // Read as nobody signed in would: a suspended author's statuses are
    // not served.
    let row = match statuses::find_readable(&state.db, id, 0).await {
        Ok(Some(row)) => row,
        Ok(None) => return not_found(),
        Err(error) => return internal(&error),
    };
    if !servable(state, &row, username) {
        return not_found();
    }
    let note = match load_status_note(&state.db, &state.layout, &state.config.domain, &row).await {
        Ok(Some(note)) => note,
        Ok(None) => return not_found(),
        Err(error) => return internal(&error),
    };
    let body = if activity {
        build_create(&note)
    } else {
        let mut object = build_note(&note);
        object["@context"] = note_context();
        object
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ACTIVITY_JSON),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// A local original status, public or unlisted, under its author's path.
fn servable(state: &ApubState, row: &StatusRow, username: &str) -> bool {
    row.local
        && row.reblog_of_id.is_none()
        && Visibility::from_i16(row.visibility).is_public()
        && row.uri == state.layout.status_uri(username, row.id)
}
