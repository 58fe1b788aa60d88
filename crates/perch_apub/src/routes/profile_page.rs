//! `/@username`: the profile page browsers land on (actor URLs redirect
//! here). Plain HTML; ActivityPub clients asking for JSON get the actor.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use perch_db::accounts;

use super::actor::wants_activity_json;
use crate::ApubState;
use perch_core::content::escape_html as escape;

pub async fn profile(
    State(state): State<ApubState>,
    Path(handle): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(username) = handle.strip_prefix('@') else {
        // Not a profile path: the same answer as any unknown path.
        return (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({ "error": "Record not found" })),
        )
            .into_response();
    };
    let row = match accounts::find_local_by_username(&state.db, username).await {
        Ok(Some(row)) if row.actor_type != "Application" && row.suspended_at.is_none() => row,
        Ok(_) => return (StatusCode::NOT_FOUND, Html("<h1>No such account</h1>")).into_response(),
        Err(error) => {
            tracing::error!(%error, "profile page failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if wants_activity_json(&headers) {
        return Redirect::to(&row.uri).into_response();
    }
    let name = if row.display_name.is_empty() {
        &row.username
    } else {
        &row.display_name
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name} (@{user}@{domain})</title>\
         <link rel=\"alternate\" type=\"application/activity+json\" href=\"{uri}\"></head>\
         <body><h1>{name}</h1><p>@{user}@{domain}</p><div class=\"note\">{note}</div>\
         <p>{following} following · {followers} followers</p></body></html>",
        name = escape(name),
        user = escape(&row.username),
        domain = escape(&state.config.domain),
        uri = escape(&row.uri),
        // The note is stored as sanitised HTML.
        note = row.note,
        following = row.following_count.max(0),
        followers = row.followers_count.max(0),
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}
