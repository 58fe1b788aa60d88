//! `Authorization: Bearer <JWT>` → [`Auth`], checked against the live
//! server-side session on every request.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use perch_db::oauth;

use super::Scopes;
use super::tokens::TokenError;
use crate::{ApiError, ApiState};

/// How stale a session's `last_used_at` may get before it is updated.
const TOUCH_INTERVAL_MILLIS: i64 = 3600 * 1000;

/// An authenticated caller: a user through an app, or an app alone
/// (client credentials).
#[derive(Clone, Debug)]
pub struct Auth {
    pub session_id: i64,
    pub app_id: i64,
    pub account_id: Option<i64>,
    pub scopes: Scopes,
    /// When the access token expires (Unix milliseconds).
    pub expires_at: i64,
}

impl Auth {
    /// 403 unless one of the granted scopes covers one of `accepted`.
    pub fn require_any(&self, accepted: &[&str]) -> Result<(), ApiError> {
        if accepted.iter().any(|scope| self.scopes.allows(scope)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "This action is outside the authorized scopes",
            ))
        }
    }

    /// 403 unless the token carries `scope` (or a scope covering it).
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        self.require_any(&[scope])
    }

    /// The signed-in account; app-only tokens get Mastodon's 422.
    pub fn account_id(&self) -> Result<i64, ApiError> {
        self.account_id
            .ok_or_else(|| ApiError::unprocessable("This method requires an authenticated user"))
    }
}

/// For endpoints open to everyone that say more to a signed-in caller. A
/// token that is present but invalid is still refused.
#[derive(Clone, Debug)]
pub struct MaybeAuth(pub Option<Auth>);

impl FromRequestParts<ApiState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        match bearer_token(parts)? {
            Some(token) => authenticate(state, token).await,
            None => Err(ApiError::token_required()),
        }
    }
}

impl FromRequestParts<ApiState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        match bearer_token(parts)? {
            Some(token) => Ok(MaybeAuth(Some(authenticate(state, token).await?))),
            None => Ok(MaybeAuth(None)),
        }
    }
}

pub(crate) fn bearer_token(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("The access token is invalid"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::unauthorized("The access token is invalid")),
    }
}

/// Verify the token, then its session: it must exist, be live, belong to the
/// token's subject, and its user must still be allowed to sign in.
pub(crate) async fn authenticate(state: &ApiState, token: &str) -> Result<Auth, ApiError> {
    let claims = state
        .tokens
        .verify(&state.db, token)
        .await
        .map_err(|error| match error {
            TokenError::Expired => ApiError::unauthorized("The access token expired"),
            TokenError::Invalid => ApiError::unauthorized("The access token is invalid"),
        })?;
    let invalid = || ApiError::unauthorized("The access token is invalid");
    let session_id: i64 = claims.sid.parse().map_err(|_| invalid())?;
    let status = oauth::session_status(&state.db, session_id)
        .await?
        .ok_or_else(invalid)?;
    if status.revoked_at.is_some() {
        return Err(ApiError::unauthorized("The access token was revoked"));
    }
    let subject_matches = match status.account_id {
        Some(account) => claims.sub == account.to_string(),
        None => claims.sub == format!("app:{}", status.app_id),
    };
    if !subject_matches {
        return Err(invalid());
    }
    if status.account_id.is_some() {
        if status.disabled_at.is_some() || status.suspended_at.is_some() {
            return Err(ApiError::forbidden("Your login is currently disabled"));
        }
        if status.approved != Some(true) {
            return Err(ApiError::forbidden(
                "Your login is currently pending approval",
            ));
        }
    }
    let scopes = Scopes::parse(&claims.scope).map_err(|_| invalid())?;
    // Record use at most hourly: one small write per session and hour. The
    // figure feeds "active users" statistics, so a failure only gets logged.
    let now = perch_core::time::now_millis();
    if status
        .last_used_at
        .is_none_or(|at| now - at > TOUCH_INTERVAL_MILLIS)
    {
        if let Err(error) = oauth::touch_session(&state.db, session_id, now).await {
            tracing::warn!(%error, "recording session use failed");
        }
    }
    Ok(Auth {
        session_id,
        app_id: status.app_id,
        account_id: status.account_id,
        scopes,
        expires_at: claims.exp.saturating_mul(1000),
    })
}
