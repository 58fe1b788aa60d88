//! `POST /api/v1/apps` and `GET /api/v1/apps/verify_credentials`.

use axum::Json;
use perch_core::time::now_millis;
use perch_db::oauth::{self, AppRow};
use serde::{Deserialize, Serialize};

use crate::auth::secrets::{hash_secret, random_token};
use crate::auth::{Auth, Scopes};
use crate::params::{OneOrMany, Params};
use crate::{ApiError, ApiState};

/// The out-of-band redirect: the code is shown to the user instead.
pub const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";

#[derive(Deserialize)]
pub struct CreateApp {
    client_name: Option<String>,
    #[serde(alias = "redirect_uris[]", alias = "redirect_uri")]
    redirect_uris: Option<OneOrMany>,
    scopes: Option<OneOrMany>,
    website: Option<String>,
}

/// Mastodon's Application entity (CredentialApplication when it carries the
/// secret).
#[derive(Serialize)]
pub struct Application {
    id: String,
    name: String,
    website: Option<String>,
    scopes: Vec<String>,
    redirect_uri: String,
    redirect_uris: Vec<String>,
    vapid_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret_expires_at: Option<i64>,
}

fn application(app: &AppRow, secret: Option<String>) -> Application {
    let redirect_uris: Vec<String> = app.redirect_uris.lines().map(str::to_owned).collect();
    Application {
        id: app.id.to_string(),
        name: app.name.clone(),
        website: app.website.clone(),
        scopes: app.scopes.split_whitespace().map(str::to_owned).collect(),
        redirect_uri: redirect_uris.join("\n"),
        redirect_uris,
        vapid_key: String::new(),
        client_id: secret.as_ref().map(|_| app.client_id.clone()),
        client_secret_expires_at: secret.as_ref().map(|_| 0),
        client_secret: secret,
    }
}

pub async fn create(
    state: axum::extract::State<ApiState>,
    Params(params): Params<CreateApp>,
) -> Result<Json<Application>, ApiError> {
    let name = params
        .client_name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable("Validation failed: Application name can't be blank")
        })?;
    if name.chars().count() > 100 {
        return Err(ApiError::unprocessable(
            "Validation failed: Application name is too long (maximum is 100 characters)",
        ));
    }
    let redirect_uris = params
        .redirect_uris
        .map(OneOrMany::into_words)
        .unwrap_or_default();
    if redirect_uris.is_empty() {
        return Err(ApiError::unprocessable(
            "Validation failed: Redirect URI can't be blank",
        ));
    }
    for uri in &redirect_uris {
        if uri != OOB_REDIRECT && url::Url::parse(uri).is_err() {
            return Err(ApiError::unprocessable(format!(
                "Validation failed: Redirect URI must be an absolute URI: {uri}"
            )));
        }
    }
    let scope_text = params.scopes.map(|s| s.into_words().join(" "));
    let scopes = Scopes::parse_or_default(scope_text.as_deref())
        .map_err(|e| ApiError::unprocessable(format!("Validation failed: Scopes: {e}")))?;
    let website = params.website.filter(|w| !w.trim().is_empty());
    let secret = random_token();
    let app = AppRow {
        id: state.ids.next_id().as_i64(),
        name,
        website,
        redirect_uris: redirect_uris.join("\n"),
        scopes: scopes.to_string(),
        client_id: random_token(),
        client_secret_hash: hash_secret(&secret),
        created_at: now_millis(),
    };
    oauth::create_app(&state.db, &app).await?;
    Ok(Json(application(&app, Some(secret))))
}

pub async fn verify_credentials(
    state: axum::extract::State<ApiState>,
    auth: Auth,
) -> Result<Json<Application>, ApiError> {
    let app = oauth::find_app(&state.db, auth.app_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(application(&app, None)))
}
