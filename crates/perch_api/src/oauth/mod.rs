//! OAuth 2 as Mastodon clients use it: app registration, the authorization
//! page, the token endpoint with its four grants, revocation and RFC 8414
//! metadata.

mod apps;
mod authorize;
pub(crate) mod issue;
mod metadata;
mod revoke;
pub mod signin;
mod token;

use axum::Router;
use axum::routing::{get, post};

use crate::ApiState;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/apps", post(apps::create))
        .route(
            "/api/v1/apps/verify_credentials",
            get(apps::verify_credentials),
        )
        .route(
            "/oauth/authorize",
            get(authorize::page).post(authorize::submit),
        )
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(revoke::revoke))
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::metadata),
        )
}
