//! The API's single error type.
//!
//! Every failure becomes Mastodon's error entity — `{"error": "…"}`, with
//! `error_description` for OAuth errors and `details` for validation errors —
//! and the status code Mastodon uses for it. Server-side failures (5xx) never
//! show their cause to the client; it goes to the log instead.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Boxed: handlers return `Result<_, ApiError>` everywhere, and the error
/// path should not make every `Ok` large.
#[derive(Debug)]
pub struct ApiError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    status: StatusCode,
    message: String,
    description: Option<String>,
    details: Option<BTreeMap<String, Vec<FieldError>>>,
    www_authenticate: Option<String>,
    retry_after: Option<u64>,
}

/// One reason a field was refused (Mastodon's `details` entries).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// Machine-readable, e.g. `ERR_TAKEN`, `ERR_INVALID`, `ERR_BLANK`.
    pub error: &'static str,
    pub description: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a BTreeMap<String, Vec<FieldError>>>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            status,
            message: message.into(),
            description: None,
            details: None,
            www_authenticate: None,
            retry_after: None,
        }))
    }

    /// 404, as Mastodon words it for any missing record or route.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Record not found")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 401 with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        let message = message.into();
        let challenge = format!(
            "Bearer realm=\"perch\", error=\"invalid_token\", error_description=\"{}\"",
            message.replace('"', "'")
        );
        let mut error = Self::new(StatusCode::UNAUTHORIZED, message);
        error.0.www_authenticate = Some(challenge);
        error
    }

    /// 401 for a request that carried no token at all.
    pub fn token_required() -> Self {
        let mut error = Self::new(
            StatusCode::UNAUTHORIZED,
            "This method requires an authenticated user",
        );
        error.0.www_authenticate = Some("Bearer realm=\"perch\"".to_owned());
        error
    }

    /// An OAuth 2 error (RFC 6749 §5.2): `error` is the code, the
    /// description explains.
    pub fn oauth(status: StatusCode, code: &str, description: impl Into<String>) -> Self {
        let mut error = Self::new(status, code);
        error.0.description = Some(description.into());
        error
    }

    /// 422 "Validation failed" with per-field details.
    pub fn validation(details: BTreeMap<String, Vec<FieldError>>) -> Self {
        let summary = details
            .iter()
            .flat_map(|(field, errors)| {
                errors
                    .iter()
                    .map(move |e| format!("{field} {}", e.description))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut error = Self::unprocessable(format!("Validation failed: {summary}"));
        error.0.details = Some(details);
        error
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(retry_after: Duration) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
        error.0.retry_after = Some(retry_after.as_secs_f64().ceil().max(1.0) as u64);
        error
    }

    /// 500 with a generic message; `cause` is logged, never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error; the incident has been logged",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }
}

impl From<perch_db::Error> for ApiError {
    fn from(error: perch_db::Error) -> Self {
        Self::internal(&error)
    }
}

impl From<perch_domain::DomainError> for ApiError {
    fn from(error: perch_domain::DomainError) -> Self {
        use perch_domain::DomainError;
        match error {
            DomainError::NotFound => Self::not_found(),
            DomainError::Forbidden(message) => Self::forbidden(message),
            DomainError::Invalid(message) => Self::unprocessable(message),
            DomainError::Db(error) => error.into(),
            DomainError::Internal(message) => Self::internal(&message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let inner = *self.0;
        let body = ErrorBody {
            error: &inner.message,
            error_description: inner.description.as_deref(),
            details: inner.details.as_ref(),
        };
        let mut response = (inner.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(challenge) = inner
            .www_authenticate
            .and_then(|c| HeaderValue::try_from(c).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = inner.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
