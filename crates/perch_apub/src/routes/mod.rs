//! HTTP routes of the federation side: discovery (WebFinger, host-meta,
//! NodeInfo), actor documents, objects and collections (signed requests
//! only, in secure mode: [`authorized`]) and the inboxes.

mod actor;
pub mod authorized;
mod collections;
mod nodeinfo;
mod note;
mod profile_page;
mod webfinger;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::ApubState;
use crate::inbox::{self, MAX_BODY_BYTES};

pub fn router(state: ApubState) -> Router {
    // What secure mode keeps for signed requests.
    let actors = Router::new()
        .route("/users/{username}", get(actor::actor))
        .route_layer(from_fn_with_state(
            state.clone(),
            authorized::require_signature_unless_browser,
        ));
    let documents = Router::new()
        .route("/users/{username}/followers", get(collections::followers))
        .route("/users/{username}/following", get(collections::following))
        .route("/users/{username}/outbox", get(collections::outbox))
        .route(
            "/users/{username}/collections/featured",
            get(collections::featured),
        )
        .route("/users/{username}/statuses/{id}", get(note::note))
        .route(
            "/users/{username}/statuses/{id}/activity",
            get(note::create),
        )
        .route_layer(from_fn_with_state(
            state.clone(),
            authorized::require_signature,
        ));
    Router::new()
        .merge(actors)
        .merge(documents)
        .route("/.well-known/webfinger", get(webfinger::webfinger))
        .route("/.well-known/host-meta", get(webfinger::host_meta))
        .route(
            "/.well-known/host-meta.json",
            get(webfinger::host_meta_json),
        )
        .route("/.well-known/nodeinfo", get(nodeinfo::discovery))
        .route("/nodeinfo/2.0", get(nodeinfo::schema_2_0))
        .route("/nodeinfo/2.1", get(nodeinfo::schema_2_1))
        .route("/{handle}", get(profile_page::profile))
        .route("/actor", get(actor::instance_actor))
        .route(
            "/inbox",
            post(inbox::shared_inbox).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route(
            "/users/{username}/inbox",
            post(inbox::user_inbox).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .with_state(state)
}

/// A document that does not exist (or is not shown), in Mastodon's words.
pub(crate) fn not_found() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({ "error": "Record not found" })),
    )
        .into_response()
}

/// A failure on our side: logged, answered generically.
pub(crate) fn internal(error: &dyn std::fmt::Display) -> axum::response::Response {
    use axum::response::IntoResponse;
    tracing::error!(%error, "serving a federation document failed");
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({ "error": "Internal server error" })),
    )
        .into_response()
}
