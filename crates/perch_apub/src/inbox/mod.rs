//! The inbox: what arrives from other servers is hostile until verified.
//!
//! Order of checks, cheapest first, and nothing stored until all pass:
//! body size (route limit) → JSON shape → actor's server not blocked and
//! actor not suspended (else dropped, answered 202) → signature header → key (database,
//! or fetched through its owner) → signature, with one refetch of a cached
//! key that fails (key rotation; at most one per key in
//! [`KEY_REFETCH_INTERVAL`], so that forged signatures naming a known key
//! cannot make us fetch and write on every request) → key owner is the activity's actor →
//! activity id on the actor's host → not seen before → a durable row in the
//! inbound queue, and `202 Accepted`.
//!
//! Nothing slow happens inside the sender's request beyond the key fetch
//! the signature needs: the queue's workers ([`queue`]) apply each activity
//! later through the handler named after it, which may fetch what it
//! refers to, and the domain layer records the activity's id in the
//! transaction of the change, so an activity is applied once however often
//! it is delivered or retried.

pub mod activity;
mod announce;
mod answer;
mod block;
mod chat;
mod create;
mod delete;
mod flag;
mod follow;
pub mod heard;
pub mod intake;
mod like;
mod move_account;
mod note;
mod pin;
pub mod queue;
mod undo;
mod update;
mod vote;

pub use crate::error::InboxError;

use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use perch_db::accounts;
use perch_db::actors::ActorKey;
use serde_json::Value;
use url::Url;

use crate::ApubState;
use crate::objects::person::{authority, same_origin};
use crate::resolve::{self, ResolveError};
use crate::signatures::{self, InboundSignature, RequestParts};

/// Largest activity accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How often a stored key whose signature fails is refetched, at most, per
/// key id. A rotated key is picked up by the first request signed with the
/// new one; within this interval after a refetch, requests that still fail
/// are refused without another fetch (the sender retries later).
pub const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// The verified envelope of an activity, handed to the handlers.
pub struct Verified {
    pub activity: Value,
    pub id: Url,
    pub kind: String,
    pub actor: Url,
    /// The sender's account.
    pub actor_account_id: i64,
}

impl Verified {
    /// The activity as the change it causes records it.
    pub fn received(&self) -> perch_domain::Received {
        perch_domain::Received {
            activity_id: self.id.to_string(),
            actor_account_id: self.actor_account_id,
        }
    }

    /// The sender's account.
    pub async fn sender(&self, state: &ApubState) -> Result<accounts::AccountRow, InboxError> {
        account(state, self.actor_account_id).await
    }
}

/// An account the queued activity's handler relies on (its sender, the
/// other side of a follow): it existed when the activity was checked.
pub(crate) async fn account(
    state: &ApubState,
    id: i64,
) -> Result<accounts::AccountRow, InboxError> {
    accounts::find_by_id(&state.db, perch_core::id::Id::from_i64(id))
        .await?
        .ok_or_else(|| InboxError::Internal(format!("account {id} vanished")))
}

/// `POST /inbox`.
pub async fn shared_inbox(
    State(state): State<ApubState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match receive(&state, &method, &uri, &headers, &body).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(error) => refuse(error),
    }
}

/// `POST /users/:username/inbox`.
pub async fn user_inbox(
    State(state): State<ApubState>,
    Path(username): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match accounts::find_local_by_username(&state.db, &username).await {
        Ok(Some(row)) if row.actor_type != "Application" => {}
        Ok(_) => return refuse(InboxError::NotFound),
        Err(error) => return refuse(error.into()),
    }
    match receive(&state, &method, &uri, &headers, &body).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(error) => refuse(error),
    }
}

fn refuse(error: InboxError) -> Response {
    tracing::info!(%error, "inbox refused an activity");
    error.into_response()
}

async fn receive(
    state: &ApubState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), InboxError> {
    let activity: Value = serde_json::from_slice(body)
        .map_err(|e| InboxError::Malformed(format!("not JSON: {e}")))?;
    let (id, kind, actor) = envelope(&activity)?;
    // A suspended actor's activities are dropped before anything else is
    // done with them (no key fetched, nothing queued); the sender is told
    // they were accepted, so that it does not retry.
    // So are those of a server the instance blocked (or does not allow),
    // and reports from a server whose reports are rejected.
    let host = authority(&actor).unwrap_or_default();
    let policy = &state.federation_policy;
    if policy.refuses(&host) || (kind == "Flag" && policy.rejects_reports(&host)) {
        tracing::debug!(%actor, "dropped an activity of a blocked server");
        return Ok(());
    }
    if policy.is_suspended(actor.as_str()) {
        tracing::debug!(%actor, "dropped an activity of a suspended actor");
        return Ok(());
    }
    let signature =
        signatures::parse_inbound(headers).map_err(|e| InboxError::Unauthorized(e.to_string()))?;
    // The signature covers `Host` (or the target URI, built from it): a
    // request signed for another server (a delivery replayed here while
    // its date is fresh) is refused.
    if !is_our_host(headers, &state.config.public_url) {
        return Err(InboxError::Unauthorized(
            "the request was signed for another host".to_owned(),
        ));
    }
    let request = RequestParts {
        method,
        scheme: state.config.public_url.scheme(),
        path_and_query: uri.path_and_query().map_or("/", |p| p.as_str()),
        headers,
        body: Some(body),
    };
    let key = verified_key(state, &signature, &request, kind == "Delete").await?;
    let Some(key) = key else {
        // A Delete of an actor whose key is gone: nothing of theirs to check
        // against, and nothing left to fetch. Acknowledge without acting.
        return Ok(());
    };
    if key.owner_uri != actor.as_str() {
        return Err(InboxError::Unauthorized(
            "the signing key does not belong to the activity's actor".to_owned(),
        ));
    }
    check_origin(&activity, &id, &kind, &actor)?;
    // A server that speaks to us is up, and an actor that does is not gone.
    let now = std::time::Instant::now();
    if let Some(host) = authority(&actor) {
        if !state.recently_heard.is_fresh(key.account_id, now) {
            perch_db::deliveries::heard_from(&state.db, key.account_id, &host).await?;
            state.recently_heard.checked(key.account_id, now);
        }
    }
    let verified = Verified {
        activity,
        id,
        kind,
        actor,
        actor_account_id: key.account_id,
    };
    queue::enqueue(state, &verified, body).await
}

/// Whether the request's `Host` names this server (its public URL's host,
/// with or without the scheme's default port).
pub(crate) fn is_our_host(headers: &HeaderMap, public_url: &Url) -> bool {
    let Some(host) = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    // Read as the authority of a URL of our scheme, so that ports, default
    // ports, IPv6 brackets and case compare as URLs do.
    match Url::parse(&format!("{}://{host}/", public_url.scheme())) {
        Ok(given) => {
            given.host() == public_url.host()
                && given.port_or_known_default() == public_url.port_or_known_default()
                && given.username().is_empty()
                && given.path() == "/"
        }
        Err(_) => false,
    }
}

/// What the activity alone shows about its origin, checked once its actor
/// is verified: its id is on its actor's server, and a Create or Update
/// carries only the actor's own object from there (the cheap part of the
/// authorship checks; the worker does the rest when it reads the note).
fn check_origin(activity: &Value, id: &Url, kind: &str, actor: &Url) -> Result<(), InboxError> {
    if !same_origin(id, actor) {
        return Err(InboxError::Forbidden(
            "the activity's id is not on its actor's server".to_owned(),
        ));
    }
    if !matches!(kind, "Create" | "Update") {
        return Ok(());
    }
    // An actor's Update of its own profile names no author; a Create or
    // Update of a note names its author, and the object lives on the
    // author's server (Mastodon ignores any other).
    if let Some(object) = crate::objects::note::id_of(&activity["object"]) {
        if !same_origin(&object, actor) {
            return Err(InboxError::Forbidden(
                "the object is not on its actor's server".to_owned(),
            ));
        }
    }
    let author = match activity["object"].get("attributedTo") {
        Some(value @ (Value::String(_) | Value::Object(_))) => crate::objects::note::id_of(value),
        _ => return Ok(()),
    };
    match author {
        Some(author) if &author != actor => Err(InboxError::Forbidden(
            "the object is not the actor's".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// `id`, `type` and `actor`, all required, but for a `Delete`, which
/// GoToSocial sends without an id: it is given one (see [`delete_id`]).
fn envelope(activity: &Value) -> Result<(Url, String, Url), InboxError> {
    let kind = activity["type"]
        .as_str()
        .ok_or_else(|| InboxError::Malformed("`type` is required".to_owned()))?
        .to_owned();
    let actor = match &activity["actor"] {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        _ => None,
    }
    .ok_or_else(|| InboxError::Malformed("`actor` must be a URL".to_owned()))?;
    let id = match activity.get("id") {
        None | Some(Value::Null) if kind == "Delete" => delete_id(&actor, &activity["object"])?,
        given => given
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok())
            .ok_or_else(|| InboxError::Malformed("`id` must be a URL".to_owned()))?,
    };
    Ok((id, kind, actor))
}

/// The id given to a `Delete` that has none: the actor's id with a
/// fragment made of a digest of the deleted object's id. The same Delete
/// delivered twice gets the same id, so it is deduplicated as any other,
/// and the id is on the actor's server, as an activity's must be.
fn delete_id(actor: &Url, object: &Value) -> Result<Url, InboxError> {
    use std::fmt::Write as _;
    let object = crate::objects::note::id_of(object)
        .ok_or_else(|| InboxError::Malformed("a Delete names what it deletes".to_owned()))?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, object.as_str().as_bytes());
    let mut fragment = String::from("delete-");
    for byte in &digest.as_ref()[..16] {
        let _ = write!(fragment, "{byte:02x}");
    }
    let mut id = actor.clone();
    id.set_fragment(Some(&fragment));
    Ok(id)
}

/// The key that verifies the request (a delivery, or a signed fetch), or
/// `None` for the Delete of an actor that no longer exists
/// (`gone_key_is_fine`).
pub(crate) async fn verified_key(
    state: &ApubState,
    signature: &InboundSignature,
    request: &RequestParts<'_>,
    gone_key_is_fine: bool,
) -> Result<Option<ActorKey>, InboxError> {
    let window = state.config.signature_window;
    let key_id = signature.key_id();
    let verify = |key: &ActorKey| -> Result<(), InboxError> {
        let parsed = state
            .verifying_keys
            .get(&key.key_id, &key.public_key_pem)
            .map_err(|e| InboxError::Unauthorized(format!("unusable key: {e}")))?;
        signatures::verify_inbound(signature, &parsed, request, SystemTime::now(), &window)
            .map_err(|e| InboxError::Unauthorized(e.to_string()))
    };
    let (key, fresh) = match resolve::key_by_id(state, key_id).await {
        Ok(found) => found,
        Err(ResolveError::Fetch(crate::fetch::FetchError::Gone)) if gone_key_is_fine => {
            return Ok(None);
        }
        Err(ResolveError::Db(e)) => return Err(e.into()),
        Err(error @ ResolveError::Throttled { retry_after, .. }) => {
            return Err(InboxError::TooManyRequests {
                message: error.to_string(),
                retry_after,
            });
        }
        Err(error) => {
            return Err(InboxError::Unauthorized(format!(
                "cannot get the signing key: {error}"
            )));
        }
    };
    match verify(&key) {
        Ok(()) => Ok(Some(key)),
        // A cached key that fails may have been rotated: fetch it once more,
        // unless it was refetched a moment ago.
        Err(error) if !fresh && key.domain.is_some() => {
            if state.key_refetches.check(key_id, Instant::now()).is_err() {
                return Err(error);
            }
            let owner = Url::parse(&key.owner_uri)
                .map_err(|_| InboxError::Unauthorized("bad key owner".to_owned()))?;
            let (_, refreshed) = resolve::fetch_actor(state, &owner)
                .await
                .map_err(|e| InboxError::Unauthorized(format!("cannot refresh the key: {e}")))?;
            if refreshed.key_id != key_id {
                return Err(InboxError::Unauthorized(
                    "the key is no longer the actor's".to_owned(),
                ));
            }
            verify(&refreshed)?;
            Ok(Some(refreshed))
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
