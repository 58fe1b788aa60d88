//! Account endpoints of the Mastodon API.

mod credentials;
pub mod registration;

use axum::Router;
use axum::routing::get;

use crate::ApiState;

pub fn routes() -> Router<ApiState> {
    Router::new().route(
        "/api/v1/accounts/verify_credentials",
        get(credentials::verify_credentials),
    )
}
