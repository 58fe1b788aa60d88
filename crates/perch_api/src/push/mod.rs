//! Web Push, as Mastodon serves it: each access token may hold one
//! subscription (`/api/v1/push/subscription`) naming a push service's
//! endpoint, the browser's keys, the notification types wanted (`alerts`)
//! and from whom (`policy`). A notification that a subscription wants is
//! queued with the notification, in its transaction (perch_db's
//! `push::enqueue_for`), and the worker here encrypts it for the
//! subscription ([`crypto`]), signs the request with the server's VAPID
//! key and POSTs it to the push service, retrying what may succeed later.
//! A push service that answers 404 or 410 ends the subscription.

pub mod crypto;

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::routing::get;
use futures_util::stream::{self, StreamExt};
use perch_core::id::Id;
use perch_core::time::now_millis;
use perch_db::push::{self, PushJob, SubscriptionRow, VapidKeyRow};
use perch_db::{Db, accounts, notifications, oauth, statuses};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::Auth;
use crate::auth::tokens::AccessClaims;
use crate::params::Params;
use crate::{ApiError, ApiState};
use crypto::{PushCryptoError, SubscriptionKeys, VapidKey};

/// The notification types a subscription may want, as Mastodon names them.
pub const ALERTS: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
];

/// From whom notifications are pushed.
const POLICIES: &[&str] = &["all", "followed", "follower", "none"];

/// Pushes claimed at once, and made at once.
const BATCH: i64 = 32;
const AT_ONCE: usize = 8;
/// How long a claim holds.
const CLAIM_MILLIS: i64 = 120_000;
/// Waits before each retry; past the last, the push is given up.
const RETRY_AFTER_SECONDS: &[i64] = &[30, 120, 600, 3600, 6 * 3600];
/// How long a push service keeps a message for an offline browser.
const TTL_SECONDS: u32 = 48 * 3600;
/// The longest text of a pushed notification's body.
const MAX_BODY_CHARS: usize = 140;

/// The server's VAPID key: the one kept in the database, made at the first
/// start (by whichever process comes first).
pub async fn vapid_key(db: &Db) -> Result<VapidKey, ApiError> {
    if let Some(row) = push::vapid_key(db).await? {
        return VapidKey::from_stored(&row.private_key).map_err(|e| ApiError::internal(&e));
    }
    let (key, stored) = VapidKey::generate().map_err(|e| ApiError::internal(&e))?;
    let row = VapidKeyRow {
        private_key: stored,
        public_key: key.public_key.clone(),
    };
    push::insert_vapid_key(db, &row, now_millis()).await?;
    let kept = push::vapid_key(db)
        .await?
        .ok_or_else(|| ApiError::internal(&"the VAPID key was not kept"))?;
    VapidKey::from_stored(&kept.private_key).map_err(|e| ApiError::internal(&e))
}

pub fn routes() -> Router<ApiState> {
    Router::new().route(
        "/api/v1/push/subscription",
        get(show).post(subscribe).put(update).delete(unsubscribe),
    )
}

/// Mastodon's WebPushSubscription.
#[derive(Debug, Serialize)]
pub struct WebPushSubscription {
    pub id: String,
    pub endpoint: String,
    pub standard: bool,
    pub alerts: Map<String, Value>,
    pub policy: String,
    pub server_key: String,
}

fn entity(state: &ApiState, row: &SubscriptionRow) -> WebPushSubscription {
    let alerts = ALERTS
        .iter()
        .map(|alert| {
            let wanted = row.alerts.contains(&format!(",{alert},"));
            ((*alert).to_owned(), Value::Bool(wanted))
        })
        .collect();
    WebPushSubscription {
        id: row.id.to_string(),
        endpoint: row.endpoint.clone(),
        standard: row.standard,
        alerts,
        policy: row.policy.clone(),
        server_key: state.vapid.public_key.clone(),
    }
}

/// Parameters as one object: a form's come as a list of name and value
/// pairs (the last of a name wins).
fn as_object(params: Value) -> Value {
    match params {
        Value::Array(pairs) => Value::Object(
            pairs
                .into_iter()
                .filter_map(|pair| match pair {
                    Value::Array(mut kv) if kv.len() == 2 => {
                        let value = kv.pop()?;
                        let name = kv.pop()?.as_str()?.to_owned();
                        Some((name, value))
                    }
                    _ => None,
                })
                .collect(),
        ),
        other => other,
    }
}

/// A parameter given nested (JSON: `{"subscription": {"keys": …}}`) or
/// flat, as a form writes it (`subscription[keys][p256dh]`).
fn param<'a>(params: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let nested = path
        .iter()
        .try_fold(params, |value, key| value.get(key))
        .filter(|v| !v.is_null());
    nested.or_else(|| {
        let flat = path
            .iter()
            .skip(1)
            .fold(path[0].to_owned(), |name, key| format!("{name}[{key}]"));
        params.get(flat).filter(|v| !v.is_null())
    })
}

fn text<'a>(params: &'a Value, path: &[&str]) -> Option<&'a str> {
    param(params, path)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A boolean as Rails reads one: `true`, `1`, `on`… (JSON or text).
fn flag(params: &Value, path: &[&str]) -> Option<bool> {
    match param(params, path)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        Value::String(s) => Some(matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "on" | "t" | "yes"
        )),
        _ => None,
    }
}

/// The alerts and policy of `params`, starting from `current` (`None`:
/// nothing wanted, the policy `all`).
fn data_of(
    params: &Value,
    current: Option<&SubscriptionRow>,
) -> Result<(String, String), ApiError> {
    let mut wanted: Vec<&str> = ALERTS
        .iter()
        .copied()
        .filter(|alert| current.is_some_and(|row| row.alerts.contains(&format!(",{alert},"))))
        .collect();
    for alert in ALERTS {
        match flag(params, &["data", "alerts", alert]) {
            Some(true) if !wanted.contains(alert) => wanted.push(alert),
            Some(false) => wanted.retain(|a| a != alert),
            _ => {}
        }
    }
    let alerts = format!(",{},", wanted.join(","));
    // Some client libraries (masto.js) send the policy beside `data`.
    let policy = text(params, &["data", "policy"]).or_else(|| text(params, &["policy"]));
    let policy = match policy {
        Some(policy) if POLICIES.contains(&policy) => policy.to_owned(),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Validation failed: Policy must be all, followed, follower or none",
            ));
        }
        None => current.map_or_else(|| "all".to_owned(), |row| row.policy.clone()),
    };
    Ok((alerts, policy))
}

fn check_endpoint(state: &ApiState, endpoint: &str) -> Result<(), ApiError> {
    let invalid = || ApiError::unprocessable("Validation failed: Endpoint is not a valid URL");
    let url = Url::parse(endpoint).map_err(|_| invalid())?;
    let plain_allowed = state.federation.config.allow_private_addresses;
    let scheme_ok = url.scheme() == "https" || (plain_allowed && url.scheme() == "http");
    if !scheme_ok || url.host_str().is_none() || endpoint.len() > 2048 {
        return Err(ApiError::unprocessable(
            "Validation failed: Endpoint must be an https URL",
        ));
    }
    Ok(())
}

/// `POST /api/v1/push/subscription`: subscribes this token, replacing
/// the subscription it had.
async fn subscribe(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<Value>,
) -> Result<Json<WebPushSubscription>, ApiError> {
    auth.require("push")?;
    let account_id = auth.account_id()?;
    let params = as_object(params);
    let endpoint = text(&params, &["subscription", "endpoint"])
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Endpoint can't be blank"))?;
    check_endpoint(&state, endpoint)?;
    let p256dh = text(&params, &["subscription", "keys", "p256dh"]);
    let secret = text(&params, &["subscription", "keys", "auth"]);
    let (Some(p256dh), Some(secret)) = (p256dh, secret) else {
        return Err(ApiError::unprocessable(
            "Validation failed: Keys can't be blank",
        ));
    };
    SubscriptionKeys::decode(p256dh, secret).map_err(|_| {
        ApiError::unprocessable("Validation failed: Keys are not a P-256 key and a secret")
    })?;
    let (alerts, policy) = data_of(&params, None)?;
    let now = now_millis();
    let row = push::subscribe(
        &state.db,
        &SubscriptionRow {
            id: state.ids.next_id().as_i64(),
            session_id: auth.session_id,
            account_id,
            endpoint: endpoint.to_owned(),
            p256dh: p256dh.to_owned(),
            auth: secret.to_owned(),
            alerts,
            policy,
            standard: flag(&params, &["subscription", "standard"]).unwrap_or(false),
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    Ok(Json(entity(&state, &row)))
}

/// `GET /api/v1/push/subscription`.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<WebPushSubscription>, ApiError> {
    auth.require("push")?;
    let row = push::of_session(&state.db, auth.session_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(entity(&state, &row)))
}

/// `PUT /api/v1/push/subscription`: changes the alerts and the policy.
async fn update(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<Value>,
) -> Result<Json<WebPushSubscription>, ApiError> {
    auth.require("push")?;
    let current = push::of_session(&state.db, auth.session_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (alerts, policy) = data_of(&as_object(params), Some(&current))?;
    let row = push::set_alerts(&state.db, auth.session_id, &alerts, &policy, now_millis())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(entity(&state, &row)))
}

/// `DELETE /api/v1/push/subscription`: answers `{}`.
async fn unsubscribe(State(state): State<ApiState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.require("push")?;
    push::unsubscribe(&state.db, auth.session_id).await?;
    Ok(Json(Value::Object(Map::new())))
}

/// Run until `stop`: make the pushes that are due, then look again in a
/// second when there were none.
pub async fn worker(state: ApiState, stop: CancellationToken) {
    loop {
        let made = match run_due(&state).await {
            Ok(made) => made,
            Err(error) => {
                tracing::warn!(%error, "a push pass failed");
                0
            }
        };
        if made == 0 {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        } else if stop.is_cancelled() {
            return;
        }
    }
}

/// Make the pushes that are due (a batch of them); how many were tried.
pub async fn run_due(state: &ApiState) -> Result<usize, perch_db::Error> {
    let now = now_millis();
    let jobs = push::claim_due(&state.db, now, now + CLAIM_MILLIS, BATCH).await?;
    let tried = jobs.len();
    let results: Vec<Result<(), perch_db::Error>> = stream::iter(jobs)
        .map(|job| async move { make(state, &job).await })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    Ok(tried)
}

/// What became of one push.
enum Outcome {
    Done,
    Gone,
    Retry,
    Refused(String),
}

async fn make(state: &ApiState, job: &PushJob) -> Result<(), perch_db::Error> {
    let Some(subscription) = push::find(&state.db, job.subscription_id).await? else {
        return Ok(());
    };
    let outcome = match push_one(state, &subscription, job.notification_id).await {
        Ok(outcome) => outcome,
        Err(PushError::Db(error)) => return Err(error),
        Err(PushError::Crypto(error)) => Outcome::Refused(error.to_string()),
        Err(PushError::Fetch(error)) => {
            tracing::debug!(%error, "a push service could not be reached");
            Outcome::Retry
        }
        Err(PushError::Nothing) => Outcome::Done,
    };
    match outcome {
        Outcome::Done => push::settle(&state.db, job).await,
        Outcome::Gone => {
            tracing::info!(
                subscription = subscription.id,
                "a push service ended a subscription"
            );
            push::remove(&state.db, subscription.id).await
        }
        Outcome::Refused(why) => {
            tracing::warn!(subscription = subscription.id, %why, "a push was refused for good");
            push::settle(&state.db, job).await
        }
        Outcome::Retry => match RETRY_AFTER_SECONDS.get(job.attempts as usize) {
            Some(wait) => push::retry(&state.db, job, now_millis() + wait * 1000).await,
            None => {
                tracing::warn!(
                    subscription = subscription.id,
                    "a push was given up after its retries"
                );
                push::settle(&state.db, job).await
            }
        },
    }
}

#[derive(Debug, thiserror::Error)]
enum PushError {
    #[error(transparent)]
    Db(#[from] perch_db::Error),
    #[error(transparent)]
    Crypto(#[from] PushCryptoError),
    #[error(transparent)]
    Fetch(#[from] perch_apub::fetch::FetchError),
    /// Nothing to push any more (the notification or the session is gone).
    #[error("nothing to push")]
    Nothing,
}

async fn push_one(
    state: &ApiState,
    subscription: &SubscriptionRow,
    notification_id: i64,
) -> Result<Outcome, PushError> {
    let payload = payload(state, subscription, notification_id).await?;
    let keys = SubscriptionKeys::decode(&subscription.p256dh, &subscription.auth)?;
    let encrypted = crypto::encrypt(&keys, payload.to_string().as_bytes(), subscription.standard)?;
    let endpoint = Url::parse(&subscription.endpoint).map_err(|_| PushError::Nothing)?;
    let audience = endpoint.origin().ascii_serialization();
    let subject = if state.config.contact_email.is_empty() {
        state.config.public_url.to_string()
    } else {
        format!("mailto:{}", state.config.contact_email)
    };
    let claim = state
        .vapid
        .claim(&audience, now_millis() / 1000 + 12 * 3600, &subject)?;
    let mut headers = HeaderMap::new();
    let header = |value: String| {
        HeaderValue::from_str(&value).map_err(|_| PushError::Crypto(PushCryptoError::Failed))
    };
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        "content-encoding",
        HeaderValue::from_static(encrypted.content_encoding),
    );
    headers.insert("ttl", HeaderValue::from(TTL_SECONDS));
    headers.insert("urgency", HeaderValue::from_static("normal"));
    let public = &state.vapid.public_key;
    if subscription.standard {
        headers.insert(
            "authorization",
            header(format!("vapid t={claim}, k={public}"))?,
        );
    } else {
        headers.insert("authorization", header(format!("WebPush {claim}"))?);
        let dh = encrypted.crypto_key_dh.clone().unwrap_or_default();
        headers.insert("crypto-key", header(format!("{dh};p256ecdsa={public}"))?);
        if let Some(encryption) = &encrypted.encryption {
            headers.insert("encryption", header(encryption.clone())?);
        }
    }
    let status = state
        .federation
        .fetcher
        .post_with_headers(&endpoint, headers, encrypted.body, None)
        .await?;
    Ok(match status {
        200..=299 => Outcome::Done,
        404 | 410 => Outcome::Gone,
        408 | 429 | 500..=599 => Outcome::Retry,
        other => Outcome::Refused(format!("the push service answered {other}")),
    })
}

/// What the app's service worker reads, as Mastodon pushes it.
async fn payload(
    state: &ApiState,
    subscription: &SubscriptionRow,
    notification_id: i64,
) -> Result<Value, PushError> {
    let db = &state.db;
    let notification = notifications::find(db, subscription.account_id, notification_id)
        .await?
        .ok_or(PushError::Nothing)?;
    let session = oauth::find_session(db, subscription.session_id)
        .await?
        .filter(|s| s.revoked_at.is_none())
        .ok_or(PushError::Nothing)?;
    let app = oauth::find_app(db, session.app_id)
        .await?
        .ok_or(PushError::Nothing)?;
    let from = accounts::find_by_id(db, Id::from_i64(notification.from_account_id))
        .await?
        .ok_or(PushError::Nothing)?;
    let me = perch_db::users::find_by_account_id(db, subscription.account_id)
        .await?
        .ok_or(PushError::Nothing)?;
    let shown = crate::entities::account::account_from_row(&from, &state.config.public_url);
    let name = if from.display_name.trim().is_empty() {
        from.username.clone()
    } else {
        from.display_name.clone()
    };
    let title = match notification.kind.as_str() {
        "mention" => format!("You were mentioned by {name}"),
        "status" => format!("{name} just posted"),
        "reblog" => format!("{name} boosted your post"),
        "follow" => format!("{name} is now following you"),
        "follow_request" => format!("{name} has requested to follow you"),
        "favourite" => format!("{name} favourited your post"),
        "poll" => "A poll has ended".to_owned(),
        "update" => format!("{name} edited a post"),
        "admin.sign_up" => format!("{name} signed up"),
        "admin.report" => format!("New report by {name}"),
        other => format!("{name}: {other}"),
    };
    let text = match notification.status_id {
        Some(id) => match statuses::find_by_id(db, id).await? {
            Some(status) if !status.spoiler_text.is_empty() => status.spoiler_text,
            Some(status) => perch_apub::objects::note::plain_text(&status.content),
            None => String::new(),
        },
        None => perch_apub::objects::note::plain_text(&from.note),
    };
    let mut body: String = text.chars().take(MAX_BODY_CHARS).collect();
    if text.chars().count() > MAX_BODY_CHARS {
        body.pop();
        body.push('…');
    }
    let access_token = access_token(state, &session, &app.client_id)?;
    Ok(serde_json::json!({
        "access_token": access_token,
        "preferred_locale": me.locale,
        "notification_id": notification.id.to_string(),
        "notification_type": notification.kind,
        "icon": shown.avatar,
        "title": title,
        "body": body,
    }))
}

/// A fresh access token of the subscription's session, with which the
/// app may read the notification.
fn access_token(
    state: &ApiState,
    session: &oauth::SessionRow,
    client_id: &str,
) -> Result<String, PushError> {
    let account = session.account_id.ok_or(PushError::Nothing)?;
    let now = now_millis() / 1000;
    let ttl = i64::try_from(state.config.access_token_ttl.as_secs()).unwrap_or(3600);
    let claims = AccessClaims {
        iss: state.tokens.issuer().to_owned(),
        aud: state.tokens.audience().to_owned(),
        sub: account.to_string(),
        exp: now.saturating_add(ttl),
        iat: now,
        jti: crate::auth::secrets::random_token(),
        scope: session.scopes.clone(),
        sid: session.id.to_string(),
        client_id: client_id.to_owned(),
    };
    state
        .tokens
        .issue(&claims)
        .map_err(|_| PushError::Crypto(PushCryptoError::Failed))
}
