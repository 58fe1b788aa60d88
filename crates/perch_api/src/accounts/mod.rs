//! Account endpoints of the Mastodon API.

mod credentials;
mod lookup;
mod migration;
mod preferences;
pub(crate) use preferences::{PostingDefaults, posting_defaults};
mod profile;
pub mod relationships;
mod security;
mod show;
mod signup;
mod transfer;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, patch, post};

use crate::ApiState;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts", post(signup::sign_up))
        .route("/api/v1/accounts/{id}", get(show::show))
        .route("/api/v1/accounts/delete", post(security::delete_account))
        .route("/api/v1/perch/password", post(security::change_password))
        .route(
            "/api/v1/perch/aliases",
            get(migration::list_aliases)
                .post(migration::add_alias)
                .delete(migration::remove_alias),
        )
        .route("/api/v1/perch/move", post(migration::move_account))
        .route(
            "/api/v1/perch/exports/follows.csv",
            get(transfer::export_follows),
        )
        .route(
            "/api/v1/perch/exports/mutes.csv",
            get(transfer::export_mutes),
        )
        .route(
            "/api/v1/perch/exports/blocks.csv",
            get(transfer::export_blocks),
        )
        .route(
            "/api/v1/perch/imports",
            post(transfer::import)
                .layer(DefaultBodyLimit::max(transfer::MAX_FILE_BYTES + 64 * 1024)),
        )
        .route("/api/v1/perch/two_factor/setup", post(security::setup))
        .route("/api/v1/perch/two_factor/confirm", post(security::confirm))
        .route("/api/v1/perch/two_factor/disable", post(security::disable))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(credentials::verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            patch(profile::update_credentials)
                .layer(DefaultBodyLimit::max(profile::UPDATE_BODY_LIMIT)),
        )
        .route("/api/v1/accounts/lookup", get(lookup::lookup))
        .route(
            "/api/v1/accounts/relationships",
            get(relationships::relationships),
        )
        .route("/api/v1/accounts/{id}/note", post(relationships::set_note))
        .route("/api/v1/preferences", get(preferences::preferences))
}
