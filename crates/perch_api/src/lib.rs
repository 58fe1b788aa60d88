//! Perch's client side: the Mastodon-compatible REST API, OAuth 2 with JWT
//! access tokens and rotating refresh tokens, and the WebSocket hub for
//! streaming and chat. Handlers parse, authorise, call perch_domain for
//! every change another server could also cause, and render what it did.
//!
//! Entry points: [`router`] with an [`ApiState`]; [`error::ApiError`], the
//! one error type every handler returns, rendered as Mastodon's
//! `{"error": "…"}`; [`auth::Auth`], the extractor that authenticates a
//! request and enforces scopes; [`fallback`] for unknown paths; and
//! [`json_charset`], which makes every JSON response say
//! `application/json; charset=utf-8` as Mastodon clients expect.
//!
//! Must not: open transactions (a change that spans rows is a perch_domain
//! function), build or send ActivityPub activities, or issue SQL (storage
//! goes through perch_db).

pub mod accounts;
pub mod admin;
pub mod announcements;
pub mod auth;
pub mod blocks;
pub mod chats;
pub mod client_ip;
pub mod conversations;
pub mod discovery;
pub mod emojis;
pub mod entities;
pub mod error;
pub mod featured_tags;
pub mod filters;
pub mod follows;
pub mod images;
pub mod instance;
pub mod lists;
pub mod media;
pub mod media_files;
pub mod notification_groups;
pub mod notification_policy;
pub mod notifications;
pub mod oauth;
pub mod pagination;
pub mod params;
pub mod push;
pub mod rate_limit;
pub mod reports;
pub mod search;
pub mod state;
pub mod statuses;
pub mod streaming;
pub mod tags;
pub mod timelines;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;

pub use error::ApiError;
pub use state::{ApiConfig, ApiState, DomainBlocksShown, RegistrationMode};

/// Every route of the client API, OAuth included.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .merge(oauth::routes())
        .merge(accounts::routes())
        .merge(admin::routes())
        .merge(follows::routes())
        .merge(blocks::routes())
        .merge(reports::routes())
        .merge(statuses::routes())
        .merge(timelines::routes())
        .merge(lists::routes())
        .merge(notifications::routes())
        .merge(notification_groups::routes())
        .merge(notification_policy::routes())
        .merge(push::routes())
        .merge(discovery::routes())
        .merge(featured_tags::routes())
        .merge(tags::routes())
        .merge(filters::routes())
        .merge(streaming::routes())
        .merge(chats::routes())
        .merge(conversations::routes())
        .merge(announcements::routes())
        .merge(search::routes())
        .merge(instance::routes())
        .merge(media::routes())
        .merge(media_files::routes())
        .with_state(state)
}

/// The answer for a path no route matches, in Mastodon's words.
pub async fn fallback() -> ApiError {
    ApiError::not_found()
}

/// Response middleware: `application/json` becomes
/// `application/json; charset=utf-8`. Some Mastodon client libraries refuse
/// to parse JSON served without the charset.
pub async fn json_charset(mut response: Response) -> Response {
    let is_bare_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"application/json"));
    if is_bare_json {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    response
}
