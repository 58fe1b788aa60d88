//! Cross-origin requests, answered as Mastodon answers them, so that web
//! clients served from another origin can call the API from a browser.
//!
//! The client API (`/api/*`), the token endpoints (`/oauth/token`,
//! `/oauth/revoke`) and discovery (`/.well-known/*`, `/nodeinfo/*`) allow
//! any origin, without credentials (tokens travel in `Authorization`, not
//! in cookies), and answer preflights. Everything else, the authorisation
//! page above all, stays same-origin: a page of another origin must not be
//! able to read it or submit its form.

use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::cors::{Any, CorsLayer};

/// How long a browser may keep a preflight's answer (Mastodon's two hours).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(2 * 3600);

static OPEN: LazyLock<CorsLayer> = LazyLock::new(|| {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::LINK,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(PREFLIGHT_MAX_AGE)
});

/// Whether `path` (without a trailing slash) is open to other origins.
fn is_open(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/.well-known/")
        || path.starts_with("/nodeinfo/")
        || path == "/oauth/token"
        || path == "/oauth/revoke"
}

/// Middleware: the open paths go through the CORS layer (which answers
/// preflights itself), the others as they are.
pub(crate) async fn cors(request: Request, next: Next) -> Response {
    if !is_open(request.uri().path()) {
        return next.run(request).await;
    }
    match OPEN.layer(next).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::is_open;

    #[test]
    fn only_the_api_tokens_and_discovery_are_open() {
        for open in [
            "/api/v1/timelines/home",
            "/api/v2/instance",
            "/oauth/token",
            "/oauth/revoke",
            "/.well-known/webfinger",
            "/nodeinfo/2.1",
        ] {
            assert!(is_open(open), "{open}");
        }
        for closed in [
            "/oauth/authorize",
            "/oauth/tokens",
            "/auth/sign_in",
            "/users/ann",
            "/inbox",
            "/api",
            "/health",
        ] {
            assert!(!is_open(closed), "{closed}");
        }
    }
}
