//! Issuing tokens: a new session (token family) with its first access token
//! and refresh token, or a fresh access token for an existing session.

use perch_core::time::now_millis;
use perch_db::oauth::{self, AppRow, NewRefreshToken, NewSession};
use serde::Serialize;

use crate::auth::Scopes;
use crate::auth::secrets::{hash_secret, random_token};
use crate::auth::tokens::AccessClaims;
use crate::{ApiError, ApiState};

/// Mastodon's Token entity, with RFC 6749's `expires_in` and
/// `refresh_token`.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub scope: String,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Who a session is for.
pub struct SessionFor<'a> {
    pub app: &'a AppRow,
    pub account_id: Option<i64>,
    pub scopes: &'a Scopes,
}

/// Start a session and issue its first tokens. Client-credentials sessions
/// (no account) get no refresh token (RFC 6749 §4.4.3).
pub async fn start_session(
    state: &ApiState,
    who: SessionFor<'_>,
) -> Result<TokenResponse, ApiError> {
    let now = now_millis();
    let session_id = state.ids.next_id().as_i64();
    let refresh = who.account_id.map(|_| random_token());
    let refresh_row = refresh
        .as_ref()
        .map(|token| new_refresh_token(state, token, now));
    oauth::create_session(
        &state.db,
        &NewSession {
            id: session_id,
            app_id: who.app.id,
            account_id: who.account_id,
            scopes: who.scopes.to_string(),
            created_at: now,
        },
        refresh_row.as_ref(),
    )
    .await?;
    access_token(state, &who, session_id, refresh)
}

pub fn new_refresh_token(state: &ApiState, token: &str, now: i64) -> NewRefreshToken {
    let ttl = i64::try_from(state.config.refresh_token_ttl.as_millis()).unwrap_or(i64::MAX);
    NewRefreshToken {
        token_hash: hash_secret(token),
        expires_at: now.saturating_add(ttl),
    }
}

/// Sign an access token for `session_id`.
pub fn access_token(
    state: &ApiState,
    who: &SessionFor<'_>,
    session_id: i64,
    refresh_token: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let now_seconds = now_millis() / 1000;
    let ttl = state.config.access_token_ttl.as_secs();
    let claims = AccessClaims {
        iss: state.tokens.issuer().to_owned(),
        aud: state.tokens.audience().to_owned(),
        sub: match who.account_id {
            Some(account) => account.to_string(),
            None => format!("app:{}", who.app.id),
        },
        exp: now_seconds.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX / 2)),
        iat: now_seconds,
        jti: random_token(),
        scope: who.scopes.to_string(),
        sid: session_id.to_string(),
        client_id: who.app.client_id.clone(),
    };
    let access_token = state
        .tokens
        .issue(&claims)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        scope: claims.scope,
        created_at: now_seconds,
        expires_in: ttl,
        refresh_token,
    })
}
