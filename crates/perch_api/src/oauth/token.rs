//! `POST /oauth/token`: the `password`, `authorization_code` (with PKCE),
//! `client_credentials` and `refresh_token` grants.

use std::net::IpAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use perch_core::time::now_millis;
use perch_db::oauth::{self, AppRow, Rotation};
use serde::Deserialize;

use super::issue::{SessionFor, TokenResponse, access_token, new_refresh_token, start_session};
use super::signin::{self, SignInError};
use crate::auth::Scopes;
use crate::auth::secrets::{constant_time_eq, hash_secret, pkce_s256_matches, random_token};
use crate::client_ip::ClientIp;
use crate::params::{OneOrMany, Params};
use crate::{ApiError, ApiState};

#[derive(Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
    #[serde(alias = "scopes")]
    scope: Option<OneOrMany>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    #[serde(alias = "otp_attempt")]
    otp: Option<String>,
}

fn invalid_grant(description: &str) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn invalid_client() -> ApiError {
    ApiError::oauth(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed due to unknown client, no client authentication \
         included, or unsupported authentication method.",
    )
}

fn invalid_scope() -> ApiError {
    ApiError::oauth(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "The requested scope is invalid, unknown, or malformed.",
    )
}

pub async fn token(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Params(request): Params<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let (client_id, client_secret) = client_credentials(&headers, &request)?;
    let app = oauth::find_app_by_client_id(&state.db, &client_id)
        .await?
        .ok_or_else(invalid_client)?;
    let authenticated = match client_secret.as_deref() {
        Some(secret) => {
            if !constant_time_eq(&hash_secret(secret), &app.client_secret_hash) {
                return Err(invalid_client());
            }
            true
        }
        None => false,
    };
    let grant = request.grant_type.as_deref().unwrap_or_default();
    // Only the authorization-code grant with PKCE may come from a public
    // client without its secret.
    let public_pkce = grant == "authorization_code" && request.code_verifier.is_some();
    if !authenticated && !public_pkce {
        return Err(invalid_client());
    }
    let requested = match request.scope.clone() {
        Some(scope) => {
            Some(Scopes::parse(&scope.into_words().join(" ")).map_err(|_| invalid_scope())?)
                .filter(|s| !s.is_empty())
        }
        None => None,
    };
    // The password grant counts against the sign-in limits (address and
    // account) as it checks credentials; the other grants count against the
    // address's.
    if grant != "password" {
        if let Err(retry) = state.sign_in_limits.check(client, None, Instant::now()) {
            return Err(ApiError::too_many_requests(retry.duration()));
        }
    }
    let response = match grant {
        "password" => password_grant(&state, &app, client, &request, requested).await?,
        "client_credentials" => {
            let scopes = scopes_for(&app, requested)?;
            start_session(
                &state,
                SessionFor {
                    app: &app,
                    account_id: None,
                    scopes: &scopes,
                },
            )
            .await?
        }
        "authorization_code" => authorization_code_grant(&state, &app, &request).await?,
        "refresh_token" => refresh_grant(&state, &app, &request, requested).await?,
        "" => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing required parameter: grant_type.",
            ));
        }
        _ => {
            return Err(ApiError::oauth(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            ));
        }
    };
    Ok(Json(response))
}

/// From HTTP Basic (RFC 6749 §2.3.1) or the body.
fn client_credentials(
    headers: &HeaderMap,
    request: &TokenRequest,
) -> Result<(String, Option<String>), ApiError> {
    if let Some(basic) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = STANDARD
            .decode(basic.trim())
            .map_err(|_| invalid_client())?;
        let decoded = String::from_utf8(decoded).map_err(|_| invalid_client())?;
        let (id, secret) = decoded.split_once(':').ok_or_else(invalid_client)?;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Ok((decode(id), Some(decode(secret))));
    }
    let id = request
        .client_id
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(invalid_client)?;
    Ok((id, request.client_secret.clone().filter(|s| !s.is_empty())))
}

/// The scopes a token gets: what was asked (Mastodon's default when nothing
/// was), provided the app registered them.
fn scopes_for(app: &AppRow, requested: Option<Scopes>) -> Result<Scopes, ApiError> {
    let registered = Scopes::parse(&app.scopes).map_err(|_| invalid_scope())?;
    let scopes = match requested {
        Some(scopes) => scopes,
        None => Scopes::parse_or_default(None).map_err(|_| invalid_scope())?,
    };
    if registered.covers_all(&scopes) {
        Ok(scopes)
    } else {
        Err(invalid_scope())
    }
}

async fn password_grant(
    state: &ApiState,
    app: &AppRow,
    client: IpAddr,
    request: &TokenRequest,
    requested: Option<Scopes>,
) -> Result<TokenResponse, ApiError> {
    let scopes = scopes_for(app, requested)?;
    let (Some(login), Some(password)) = (request.username.as_deref(), request.password.as_deref())
    else {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: username and password.",
        ));
    };
    let user = match signin::check(state, client, login, password, request.otp.as_deref()).await? {
        Ok(user) => user,
        Err(SignInError::RateLimited { retry_after }) => {
            return Err(ApiError::too_many_requests(retry_after));
        }
        Err(refusal) => return Err(invalid_grant(refusal.message())),
    };
    let who = SessionFor {
        app,
        account_id: Some(user.account_id),
        scopes: &scopes,
    };
    start_session(state, who).await
}

async fn authorization_code_grant(
    state: &ApiState,
    app: &AppRow,
    request: &TokenRequest,
) -> Result<TokenResponse, ApiError> {
    let code = request
        .code
        .as_deref()
        .ok_or_else(|| invalid_grant("Missing code."))?;
    let stored = oauth::consume_code(&state.db, &hash_secret(code), now_millis())
        .await?
        .ok_or_else(|| invalid_grant("The authorization code is invalid, expired or used."))?;
    if stored.app_id != app.id {
        return Err(invalid_grant(
            "The authorization code was issued to another client.",
        ));
    }
    if request.redirect_uri.as_deref() != Some(stored.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "The redirect URI does not match the authorization request.",
        ));
    }
    match (
        stored.code_challenge.as_deref(),
        request.code_verifier.as_deref(),
    ) {
        (Some(challenge), Some(verifier)) => {
            if !pkce_s256_matches(verifier, challenge) {
                return Err(invalid_grant("The PKCE code verifier does not match."));
            }
        }
        (Some(_), None) => return Err(invalid_grant("The PKCE code verifier is missing.")),
        (None, Some(_)) => return Err(invalid_grant("No PKCE challenge was sent for this code.")),
        (None, None) => {}
    }
    let scopes = Scopes::parse(&stored.scopes).map_err(|_| invalid_scope())?;
    let who = SessionFor {
        app,
        account_id: Some(stored.account_id),
        scopes: &scopes,
    };
    start_session(state, who).await
}

async fn refresh_grant(
    state: &ApiState,
    app: &AppRow,
    request: &TokenRequest,
    requested: Option<Scopes>,
) -> Result<TokenResponse, ApiError> {
    let presented = request
        .refresh_token
        .as_deref()
        .ok_or_else(|| invalid_grant("Missing refresh_token."))?;
    let presented_hash = hash_secret(presented);
    // The token must belong to this client before it is spent.
    let session_id = oauth::session_of_refresh_token(&state.db, &presented_hash)
        .await?
        .ok_or_else(|| invalid_grant("The refresh token is invalid."))?;
    let owner = oauth::find_session(&state.db, session_id).await?;
    if owner.is_none_or(|s| s.app_id != app.id) {
        return Err(invalid_grant(
            "The refresh token was issued to another client.",
        ));
    }
    let now = now_millis();
    let replacement = random_token();
    let rotation = oauth::rotate_refresh_token(
        &state.db,
        &presented_hash,
        &new_refresh_token(state, &replacement, now),
        now,
    )
    .await?;
    let session = match rotation {
        Rotation::Rotated(session) => session,
        Rotation::ReuseDetected => {
            tracing::warn!(session_id, "refresh token reuse: session revoked");
            return Err(invalid_grant(
                "The refresh token was already used; every token of this sign-in is revoked.",
            ));
        }
        Rotation::Invalid => return Err(invalid_grant("The refresh token is invalid or expired.")),
    };
    let status = oauth::session_status(&state.db, session.id).await?;
    if status.is_none_or(|s| s.account_id.is_some() && !s.user_may_sign_in()) {
        return Err(invalid_grant("Your login is currently disabled."));
    }
    let granted = Scopes::parse(&session.scopes).map_err(|_| invalid_scope())?;
    let scopes = match requested {
        Some(narrower) if granted.covers_all(&narrower) => narrower,
        Some(_) => return Err(invalid_scope()),
        None => granted,
    };
    let who = SessionFor {
        app,
        account_id: session.account_id,
        scopes: &scopes,
    };
    access_token(state, &who, session.id, Some(replacement))
}
