//! `POST /oauth/revoke` (RFC 7009): ends the session behind an access or
//! refresh token, so every token of that sign-in stops working at once.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use perch_core::time::now_millis;
use perch_db::oauth;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::secrets::{constant_time_eq, hash_secret};
use crate::params::Params;
use crate::{ApiError, ApiState};

#[derive(Deserialize)]
pub struct RevokeRequest {
    token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

pub async fn revoke(
    State(state): State<ApiState>,
    Params(request): Params<RevokeRequest>,
) -> Result<Json<Value>, ApiError> {
    let unauthorized = || {
        ApiError::oauth(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        )
    };
    let (Some(client_id), Some(secret)) = (request.client_id, request.client_secret) else {
        return Err(unauthorized());
    };
    let app = oauth::find_app_by_client_id(&state.db, &client_id)
        .await?
        .ok_or_else(unauthorized)?;
    if !constant_time_eq(&hash_secret(&secret), &app.client_secret_hash) {
        return Err(unauthorized());
    }
    let token = request.token.unwrap_or_default();
    let session_id = match oauth::session_of_refresh_token(&state.db, &hash_secret(&token)).await? {
        Some(id) => Some(id),
        None => state
            .tokens
            .verify(&state.db, &token)
            .await
            .ok()
            .and_then(|claims| claims.sid.parse().ok()),
    };
    if let Some(session_id) = session_id {
        // A client may only revoke its own tokens; others are ignored, and
        // the answer is the same either way (RFC 7009 §2.2).
        if let Some(session) = oauth::find_session(&state.db, session_id).await? {
            if session.app_id == app.id {
                oauth::revoke_session(&state.db, session_id, now_millis()).await?;
            }
        }
    }
    Ok(Json(json!({})))
}
