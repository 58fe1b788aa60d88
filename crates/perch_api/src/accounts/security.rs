//! Sign-in security of the signed-in user: two-factor authentication (TOTP
//! with recovery codes), password changes, and deleting one's account.
//!
//! Mastodon has no client API for these (they live in its web settings), so
//! they are Perch extensions under `/api/v1/perch/`, except the deletion,
//! at GoToSocial's `POST /api/v1/accounts/delete`. Each asks for the
//! current password again: a stolen access token alone must not be able to
//! lock the owner out or turn off their second factor. Every attempt (a
//! password or a code checked) counts against the re-authentication
//! limits, per account and per client address, as sign-in attempts do:
//! a stolen token must not be a way to guess the password either.

use std::net::IpAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use perch_core::account::Password;
use perch_core::password::{hash_password, verify_password};
use perch_core::time::now_millis;
use perch_core::totp::{self, TotpSecret};
use perch_db::users::{self, UserCredentials};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::media_files;
use crate::params::Params;
use crate::{ApiError, ApiState};

/// How many single-use recovery codes a confirmation hands out.
const RECOVERY_CODES: usize = 10;

#[derive(Deserialize)]
pub struct PasswordOnly {
    password: Option<String>,
}

#[derive(Deserialize)]
pub struct Confirm {
    code: Option<String>,
}

#[derive(Deserialize)]
pub struct ChangePassword {
    current_password: Option<String>,
    new_password: Option<String>,
}

#[derive(Serialize)]
pub struct Setup {
    /// Base32, for typing into an authenticator app.
    secret: String,
    /// For a QR code.
    otpauth_uri: String,
}

/// The signed-in account, when the re-authentication limits allow one
/// more attempt from `client` (429 otherwise).
fn attempt(state: &ApiState, auth: &Auth, client: IpAddr) -> Result<i64, ApiError> {
    auth.require("write:accounts")?;
    let account_id = auth.account_id()?;
    state
        .reauth_limits
        .check(client, Some(&account_id.to_string()), Instant::now())
        .map_err(|retry| ApiError::too_many_requests(retry.duration()))?;
    Ok(account_id)
}

/// The signed-in user, after checking `password` against theirs.
pub(super) async fn reauthenticate(
    state: &ApiState,
    auth: &Auth,
    client: IpAddr,
    password: Option<&str>,
) -> Result<UserCredentials, ApiError> {
    let account_id = attempt(state, auth, client)?;
    let user = users::find_by_account_id(&state.db, account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let password = password.unwrap_or_default();
    let hash = user.password_hash.clone();
    let candidate = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_password(&candidate, &hash))
        .await
        .unwrap_or(false);
    if !matches {
        return Err(ApiError::forbidden("Invalid password"));
    }
    Ok(user)
}

/// `POST /api/v1/perch/two_factor/setup`: a new secret, not yet in force.
pub async fn setup(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    auth: Auth,
    Params(request): Params<PasswordOnly>,
) -> Result<Json<Setup>, ApiError> {
    let user = reauthenticate(&state, &auth, client, request.password.as_deref()).await?;
    if user.two_factor_enabled() {
        return Err(ApiError::unprocessable(
            "Two-factor authentication is already enabled",
        ));
    }
    let secret = TotpSecret::generate();
    let encoded = secret.to_base32();
    users::set_pending_totp_secret(&state.db, user.account_id, &encoded, now_millis()).await?;
    let label = format!("{}@{}", user.username, state.config.domain);
    Ok(Json(Setup {
        otpauth_uri: totp::otpauth_uri(&secret, &state.config.title, &label),
        secret: encoded,
    }))
}

/// `POST /api/v1/perch/two_factor/confirm`: a first valid code turns
/// two-factor authentication on; the answer carries the recovery codes,
/// shown this once.
pub async fn confirm(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    auth: Auth,
    Params(request): Params<Confirm>,
) -> Result<Json<Value>, ApiError> {
    let account_id = attempt(&state, &auth, client)?;
    let user = users::find_by_account_id(&state.db, account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if user.two_factor_enabled() {
        return Err(ApiError::unprocessable(
            "Two-factor authentication is already enabled",
        ));
    }
    let Some(secret) = user
        .totp_secret
        .as_deref()
        .and_then(|s| TotpSecret::from_base32(s).ok())
    else {
        return Err(ApiError::unprocessable("Start two-factor set-up first"));
    };
    let code = request.code.unwrap_or_default();
    let Some(step) = totp::verify(
        &secret,
        &code,
        now_millis() / 1000,
        user.totp_last_used_step,
    ) else {
        return Err(ApiError::unprocessable(
            "Invalid two-factor authentication code",
        ));
    };
    let codes = totp::generate_recovery_codes(RECOVERY_CODES);
    let hashes: Vec<String> = codes.iter().map(|c| totp::hash_recovery_code(c)).collect();
    users::confirm_totp(&state.db, account_id, step, &hashes, now_millis()).await?;
    Ok(Json(json!({ "enabled": true, "recovery_codes": codes })))
}

/// `POST /api/v1/perch/two_factor/disable`.
pub async fn disable(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    auth: Auth,
    Params(request): Params<PasswordOnly>,
) -> Result<Json<Value>, ApiError> {
    let user = reauthenticate(&state, &auth, client, request.password.as_deref()).await?;
    users::disable_totp(&state.db, user.account_id, now_millis()).await?;
    Ok(Json(json!({ "enabled": false })))
}

/// `POST /api/v1/perch/password`: a new password; every other session of
/// the account ends at once, the calling one stays.
pub async fn change_password(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    auth: Auth,
    Params(request): Params<ChangePassword>,
) -> Result<Json<Value>, ApiError> {
    let user = reauthenticate(&state, &auth, client, request.current_password.as_deref()).await?;
    let new_password = Password::parse(request.new_password.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&new_password))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    users::change_password(
        &state.db,
        user.account_id,
        &hash,
        Some(auth.session_id),
        now_millis(),
    )
    .await?;
    Ok(Json(json!({})))
}

/// `POST /api/v1/accounts/delete` (GoToSocial's path and `password`
/// parameter): the signed-in user deletes their account. Everything of it
/// goes, its sessions end, and the servers that know it are told. Answers
/// 202 `{}`: the other servers hear of it through the delivery queue.
pub async fn delete_account(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    auth: Auth,
    Params(request): Params<PasswordOnly>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = reauthenticate(&state, &auth, client, request.password.as_deref()).await?;
    let files = media_files::StoredFiles(&state.config);
    perch_domain::accounts::delete_local(&state.domain, &files, user.account_id).await?;
    tracing::info!(account = user.account_id, "account deleted by its owner");
    Ok((StatusCode::ACCEPTED, Json(json!({}))))
}
