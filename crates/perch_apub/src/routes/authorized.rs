//! Secure mode (authorized fetch): with `secure_mode` set, actors, objects
//! and collections are served only to requests signed, in either scheme,
//! by a key Perch can resolve, of a server it does not block and an actor
//! it has not suspended. The key is found and the signature checked as the
//! inbox does it (the signed host must be this server, the time within the
//! window). The instance actor (`/actor`), WebFinger, host-meta and
//! NodeInfo stay open, so that another server can fetch the key it signs
//! with; so does a browser's request for a profile, which only redirects
//! to the profile page.
//!
//! Unsigned or badly signed requests get 401, those of blocked servers or
//! suspended actors 403.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use url::Url;

use super::actor::wants_activity_json;
use crate::ApubState;
use crate::inbox::{InboxError, is_our_host, verified_key};
use crate::objects::person::authority;
use crate::signatures::{self, RequestParts};

/// The layer of object and collection routes.
pub async fn require_signature(
    State(state): State<ApubState>,
    request: Request,
    next: Next,
) -> Response {
    if !state.config.secure_mode {
        return next.run(request).await;
    }
    checked(&state, request, next).await
}

/// The layer of actor routes: a browser asking for a profile is only
/// redirected to its page, which stays open.
pub async fn require_signature_unless_browser(
    State(state): State<ApubState>,
    request: Request,
    next: Next,
) -> Response {
    if !state.config.secure_mode || !wants_activity_json(request.headers()) {
        return next.run(request).await;
    }
    checked(&state, request, next).await
}

/// Runs the request once its signature passes. Split so that the body
/// (which is not `Sync`) is never borrowed across the key lookup.
async fn checked(state: &ApubState, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match check(state, &parts).await {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(error) => refuse(error),
    }
}

fn refuse(error: InboxError) -> Response {
    tracing::debug!(%error, "secure mode refused a fetch");
    error.into_response()
}

async fn check(state: &ApubState, request: &http::request::Parts) -> Result<(), InboxError> {
    let headers = &request.headers;
    let signature = signatures::parse_inbound(headers)
        .map_err(|e| InboxError::Unauthorized(format!("secure mode: {e}")))?;
    // A blocked server's key is not even fetched.
    let policy = &state.federation_policy;
    let key_host = Url::parse(signature.key_id())
        .ok()
        .and_then(|url| authority(&url));
    if key_host.as_deref().is_some_and(|host| policy.refuses(host)) {
        return Err(InboxError::Forbidden(
            "the signer's server is blocked".to_owned(),
        ));
    }
    if !is_our_host(headers, &state.config.public_url) {
        return Err(InboxError::Unauthorized(
            "the request was signed for another host".to_owned(),
        ));
    }
    let parts = RequestParts {
        method: &request.method,
        scheme: state.config.public_url.scheme(),
        path_and_query: request.uri.path_and_query().map_or("/", |p| p.as_str()),
        headers,
        body: None,
    };
    let key = verified_key(state, &signature, &parts, false)
        .await?
        .ok_or_else(|| InboxError::Unauthorized("the signing key is gone".to_owned()))?;
    if key
        .domain
        .as_deref()
        .is_some_and(|host| policy.refuses(host))
        || policy.is_suspended(&key.owner_uri)
    {
        return Err(InboxError::Forbidden(
            "the signer is blocked or suspended".to_owned(),
        ));
    }
    Ok(())
}
