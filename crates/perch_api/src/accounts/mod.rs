//! Account endpoints of the Mastodon API.

mod credentials;
pub mod registration;
mod security;
mod show;
mod signup;

use axum::Router;
use axum::routing::{get, post};

use crate::ApiState;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/accounts", post(signup::sign_up))
        .route("/api/v1/accounts/{id}", get(show::show))
        .route("/api/v1/perch/password", post(security::change_password))
        .route("/api/v1/perch/two_factor/setup", post(security::setup))
        .route("/api/v1/perch/two_factor/confirm", post(security::confirm))
        .route("/api/v1/perch/two_factor/disable", post(security::disable))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(credentials::verify_credentials),
        )
}
