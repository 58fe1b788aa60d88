//! `GET`/`POST /oauth/authorize`: a plain HTML sign-in and consent page for
//! the authorization-code flow (with PKCE).
//!
//! Nothing here trusts the query: the app and redirect URI are checked
//! before anything is shown, and an invalid app or redirect URI gets an
//! error page, never a redirect (RFC 6749 §4.1.2.1).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use perch_core::time::now_millis;
use perch_db::oauth::{self, AppRow, NewCode};
use serde::Deserialize;

use super::apps::OOB_REDIRECT;
use super::signin::{self, SignInError};
use crate::auth::Scopes;
use crate::auth::secrets::{hash_secret, random_token};
use crate::client_ip::ClientIp;
use crate::params::{Params, Query};
use crate::{ApiError, ApiState};
use perch_core::content::escape_html as escape;

/// How long an authorization code can be exchanged.
const CODE_TTL_MILLIS: i64 = 10 * 60 * 1000;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuthorizeRequest {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    // The form's own fields.
    username: Option<String>,
    password: Option<String>,
    otp: Option<String>,
}

/// A request whose app, redirect URI, scopes and PKCE parameters are valid.
struct Checked {
    app: AppRow,
    redirect_uri: String,
    scopes: Scopes,
}

pub async fn page(
    State(state): State<ApiState>,
    Query(request): Query<AuthorizeRequest>,
) -> Response {
    match check(&state, &request).await {
        Ok(checked) => form(&checked, &request, None, StatusCode::OK),
        Err(response) => response,
    }
}

pub async fn submit(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    Params(request): Params<AuthorizeRequest>,
) -> Response {
    let checked = match check(&state, &request).await {
        Ok(checked) => checked,
        Err(response) => return response,
    };
    let login = request.username.as_deref().unwrap_or_default();
    let password = request.password.as_deref().unwrap_or_default();
    let outcome = signin::check(&state, client, login, password, request.otp.as_deref()).await;
    let user = match outcome {
        Ok(Ok(user)) => user,
        Ok(Err(refusal)) => {
            let status = match refusal {
                SignInError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            return form(&checked, &request, Some(refusal.message()), status);
        }
        Err(error) => return error.into_response(),
    };
    let code = random_token();
    let now = now_millis();
    let stored = oauth::create_code(
        &state.db,
        &NewCode {
            code_hash: hash_secret(&code),
            app_id: checked.app.id,
            account_id: user.account_id,
            redirect_uri: checked.redirect_uri.clone(),
            scopes: checked.scopes.to_string(),
            code_challenge: request.code_challenge.clone(),
            code_challenge_method: request.code_challenge.as_ref().map(|_| "S256".to_owned()),
            created_at: now,
            expires_at: now + CODE_TTL_MILLIS,
        },
    )
    .await;
    if let Err(error) = stored {
        return ApiError::from(error).into_response();
    }
    if checked.redirect_uri == OOB_REDIRECT {
        let body = format!(
            "<p>Copy this authorization code and paste it into <strong>{}</strong>:</p>\
             <p><code id=\"code\">{}</code></p>",
            escape(&checked.app.name),
            escape(&code)
        );
        return page_response(StatusCode::OK, "Authorization code", &body);
    }
    let Ok(mut target) = url::Url::parse(&checked.redirect_uri) else {
        return error_page(StatusCode::BAD_REQUEST, "The redirect URI is invalid.");
    };
    target.query_pairs_mut().append_pair("code", &code);
    if let Some(client_state) = &request.state {
        target.query_pairs_mut().append_pair("state", client_state);
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::try_from(target.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn check(state: &ApiState, request: &AuthorizeRequest) -> Result<Checked, Response> {
    let db_error = |error: perch_db::Error| ApiError::from(error).into_response();
    let app = match request.client_id.as_deref() {
        Some(client_id) => oauth::find_app_by_client_id(&state.db, client_id)
            .await
            .map_err(db_error)?,
        None => None,
    };
    let Some(app) = app else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Unknown client application.",
        ));
    };
    let registered: Vec<&str> = app.redirect_uris.lines().collect();
    let redirect_uri = match request.redirect_uri.as_deref() {
        Some(uri) if registered.contains(&uri) => uri.to_owned(),
        None if registered.len() == 1 => registered[0].to_owned(),
        _ => {
            return Err(error_page(
                StatusCode::BAD_REQUEST,
                "The redirect URI is not registered for this application.",
            ));
        }
    };
    if request.response_type.as_deref() != Some("code") {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Only response_type=code is supported.",
        ));
    }
    if request.code_challenge.is_some()
        && request.code_challenge_method.as_deref().unwrap_or("S256") != "S256"
    {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Only the S256 PKCE method is supported.",
        ));
    }
    let scopes = Scopes::parse_or_default(request.scope.as_deref())
        .ok()
        .filter(|scopes| Scopes::parse(&app.scopes).is_ok_and(|r| r.covers_all(scopes)));
    let Some(scopes) = scopes else {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "The requested scope is invalid.",
        ));
    };
    Ok(Checked {
        app,
        redirect_uri,
        scopes,
    })
}

fn form(
    checked: &Checked,
    request: &AuthorizeRequest,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let hidden = |name: &str, value: Option<&str>| match value {
        Some(value) => format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(value)
        ),
        None => String::new(),
    };
    let scopes: String = checked
        .scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let error = error
        .map(|e| format!("<p role=\"alert\" class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<p><strong>{app}</strong> asks for access to your account:</p><ul>{scopes}</ul>{error}\
         <form method=\"post\" action=\"/oauth/authorize\">\
         {response_type}{client_id}{redirect_uri}{scope}{state}{challenge}{method}\
         <label>Email or username <input name=\"username\" autocomplete=\"username\" required \
         value=\"{username}\"></label>\
         <label>Password <input name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required></label>\
         <label>Two-factor code (if enabled) <input name=\"otp\" inputmode=\"numeric\" \
         autocomplete=\"one-time-code\"></label>\
         <button type=\"submit\">Authorize</button></form>",
        app = escape(&checked.app.name),
        response_type = hidden("response_type", Some("code")),
        client_id = hidden("client_id", Some(&checked.app.client_id)),
        redirect_uri = hidden("redirect_uri", Some(&checked.redirect_uri)),
        scope = hidden("scope", Some(&checked.scopes.to_string())),
        state = hidden("state", request.state.as_deref()),
        challenge = hidden("code_challenge", request.code_challenge.as_deref()),
        method = hidden(
            "code_challenge_method",
            request.code_challenge.as_ref().map(|_| "S256")
        ),
        username = escape(request.username.as_deref().unwrap_or_default()),
    );
    page_response(status, "Authorize application", &body)
}

fn error_page(status: StatusCode, message: &str) -> Response {
    page_response(
        status,
        "Authorization error",
        &format!("<p class=\"error\">{}</p>", escape(message)),
    )
}

fn page_response(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} - Perch</title>\
         <style>body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}\
         label{{display:block;margin:.8rem 0}}input{{display:block;width:100%;padding:.4rem}}\
         .error{{color:#b00020}}button{{padding:.5rem 1.2rem}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    let mut response = (status, Html(html)).into_response();
    // The page handles passwords: never cache it, never frame it.
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }
}
