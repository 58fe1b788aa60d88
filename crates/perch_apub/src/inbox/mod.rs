//! The inbox: what arrives from other servers is hostile until verified.
//!
//! Order of checks, cheapest first, and nothing stored until all pass:
//! body size (route limit) → JSON shape → signature header → key (database,
//! or fetched through its owner) → signature, with one refetch of a cached
//! key that fails (key rotation) → key owner is the activity's actor →
//! activity id on the actor's host → handler, which stores the change and
//! the activity id (for deduplication) in one transaction.

mod chat;
mod follow;
mod note;
mod reaction;

pub use note::store_backfilled;

use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use perch_db::accounts;
use perch_db::actors::ActorKey;
use serde_json::Value;
use url::Url;

use crate::ApubState;
use crate::objects::person::authority;
use crate::resolve::{self, ResolveError};
use crate::signatures::{self, SignatureHeader};

/// Largest activity accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why an activity was refused, and the status it earns.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("malformed activity: {0}")]
    Malformed(String),
    #[error("signature refused: {0}")]
    Unauthorized(String),
    #[error("refused: {0}")]
    Forbidden(String),
    #[error("no such inbox")]
    NotFound,
    #[error("internal error")]
    Internal(String),
}

impl From<perch_db::Error> for InboxError {
    fn from(error: perch_db::Error) -> Self {
        InboxError::Internal(error.to_string())
    }
}

impl IntoResponse for InboxError {
    fn into_response(self) -> Response {
        let status = match &self {
            InboxError::Malformed(_) => StatusCode::BAD_REQUEST,
            InboxError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            InboxError::Forbidden(_) => StatusCode::FORBIDDEN,
            InboxError::NotFound => StatusCode::NOT_FOUND,
            InboxError::Internal(cause) => {
                tracing::error!(%cause, "inbox failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self {
            InboxError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}

/// The verified envelope of an activity, handed to the handlers.
pub struct Verified {
    pub activity: Value,
    pub id: Url,
    pub kind: String,
    pub actor: Url,
    /// The sender's account.
    pub actor_account_id: i64,
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
    let signature = signatures::parse_signature(headers)
        .map_err(|e| InboxError::Unauthorized(e.to_string()))?;
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let key = verified_key(
        state,
        &signature,
        method,
        path_and_query,
        headers,
        body,
        &activity,
    )
    .await?;
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
    if authority(&id) != authority(&actor) {
        return Err(InboxError::Forbidden(
            "the activity's id is not on its actor's server".to_owned(),
        ));
    }
    // A server that speaks to us is up, and an actor that does is not gone.
    if let Some(host) = authority(&actor) {
        perch_db::deliveries::heard_from(&state.db, key.account_id, &host).await?;
    }
    let verified = Verified {
        activity,
        id,
        kind,
        actor,
        actor_account_id: key.account_id,
    };
    dispatch(state, verified).await
}

/// `id`, `type` and `actor`, all required.
fn envelope(activity: &Value) -> Result<(Url, String, Url), InboxError> {
    let id = activity["id"]
        .as_str()
        .and_then(|s| Url::parse(s).ok())
        .ok_or_else(|| InboxError::Malformed("`id` must be a URL".to_owned()))?;
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
    Ok((id, kind, actor))
}

/// The key that verifies the request, or `None` for the Delete of an actor
/// that no longer exists.
async fn verified_key(
    state: &ApubState,
    signature: &SignatureHeader,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    activity: &Value,
) -> Result<Option<ActorKey>, InboxError> {
    let window = state.config.signature_window;
    let verify = |key: &ActorKey| -> Result<(), InboxError> {
        let parsed = state
            .verifying_keys
            .get(&key.key_id, &key.public_key_pem)
            .map_err(|e| InboxError::Unauthorized(format!("unusable key: {e}")))?;
        signatures::verify_request(
            signature,
            &parsed,
            method,
            path_and_query,
            headers,
            Some(body),
            SystemTime::now(),
            &window,
        )
        .map_err(|e| InboxError::Unauthorized(e.to_string()))
    };
    let (key, fresh) = match resolve::key_by_id(state, &signature.key_id).await {
        Ok(found) => found,
        Err(ResolveError::Fetch(crate::fetch::FetchError::Gone))
            if activity["type"] == "Delete" =>
        {
            return Ok(None);
        }
        Err(ResolveError::Db(e)) => return Err(e.into()),
        Err(error) => {
            return Err(InboxError::Unauthorized(format!(
                "cannot get the signing key: {error}"
            )));
        }
    };
    match verify(&key) {
        Ok(()) => Ok(Some(key)),
        // A cached key that fails may have been rotated: fetch it once more.
        Err(_) if !fresh && key.domain.is_some() => {
            let owner = Url::parse(&key.owner_uri)
                .map_err(|_| InboxError::Unauthorized("bad key owner".to_owned()))?;
            let (_, refreshed) = resolve::fetch_actor(state, &owner)
                .await
                .map_err(|e| InboxError::Unauthorized(format!("cannot refresh the key: {e}")))?;
            if refreshed.key_id != signature.key_id {
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

async fn dispatch(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    match activity.kind.as_str() {
        "Follow" => follow::receive_follow(state, activity).await,
        "Accept" | "Reject" => follow::receive_answer(state, activity).await,
        "Undo" => receive_undo(state, activity).await,
        "Create" => note::receive_create(state, activity).await,
        "Update" => note::receive_update(state, activity).await,
        "Delete" => note::receive_delete(state, activity).await,
        "Like" => reaction::receive_like(state, activity).await,
        "Announce" => reaction::receive_announce(state, activity).await,
        other => {
            tracing::debug!(kind = other, "ignoring an activity type we do not handle");
            Ok(())
        }
    }
}

/// Undo, by what it undoes: the embedded object's type, or, for a bare id,
/// whichever stored like or reblog has that id.
async fn receive_undo(state: &ApubState, activity: Verified) -> Result<(), InboxError> {
    let object = &activity.activity["object"];
    let kind = match object.get("type").and_then(Value::as_str) {
        Some(kind) => kind.to_owned(),
        None => {
            let id = object.as_str().unwrap_or_default();
            if perch_db::favourites::find_by_uri(&state.db, id)
                .await?
                .is_some()
            {
                "Like".to_owned()
            } else if perch_db::statuses::find_by_uri(&state.db, id)
                .await?
                .is_some_and(|s| s.reblog_of_id.is_some())
            {
                "Announce".to_owned()
            } else {
                "Follow".to_owned()
            }
        }
    };
    match kind.as_str() {
        "Like" => reaction::receive_undo_like(state, activity).await,
        "Announce" => reaction::receive_undo_announce(state, activity).await,
        _ => follow::receive_undo(state, activity).await,
    }
}
