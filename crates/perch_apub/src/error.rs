//! Why a received activity was refused or could not be applied, and the
//! answer it earns: the inbox's refusals in the sender's request, and the
//! workers' outcomes (transient failures are retried, the rest are final).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::resolve::ResolveError;

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
    /// Another server did not answer as it should (a timeout, a 5xx): worth
    /// another try later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The sender asks too much at once: answered 429 with `Retry-After`.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    #[error("internal error")]
    Internal(String),
}

impl InboxError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            InboxError::Unavailable(_)
                | InboxError::Internal(_)
                | InboxError::TooManyRequests { .. }
        )
    }

    /// A failed fetch of what an activity refers to: transient when the
    /// other server may answer later, a refusal otherwise.
    pub fn fetch(context: &str, error: ResolveError) -> Self {
        use crate::fetch::FetchError;
        match error {
            ResolveError::Db(error) => error.into(),
            ResolveError::Fetch(
                FetchError::Timeout | FetchError::Network(_) | FetchError::Status(429 | 500..=599),
            ) => InboxError::Unavailable(format!("{context}: {error}")),
            other => InboxError::Forbidden(format!("{context}: {other}")),
        }
    }
}

impl From<perch_db::Error> for InboxError {
    fn from(error: perch_db::Error) -> Self {
        InboxError::Internal(error.to_string())
    }
}

impl From<perch_domain::DomainError> for InboxError {
    fn from(error: perch_domain::DomainError) -> Self {
        use perch_domain::DomainError;
        match error {
            DomainError::NotFound => InboxError::NotFound,
            DomainError::Forbidden(message) => InboxError::Forbidden(message),
            DomainError::Invalid(message) => InboxError::Malformed(message),
            DomainError::Db(error) => error.into(),
            DomainError::Internal(message) => InboxError::Internal(message),
        }
    }
}

impl IntoResponse for InboxError {
    fn into_response(self) -> Response {
        let status = match &self {
            InboxError::Malformed(_) => StatusCode::BAD_REQUEST,
            InboxError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            InboxError::Forbidden(_) => StatusCode::FORBIDDEN,
            InboxError::NotFound => StatusCode::NOT_FOUND,
            InboxError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            InboxError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            InboxError::Internal(cause) => {
                tracing::error!(%cause, "inbox failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let message = match &self {
            InboxError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let mut response =
            (status, axum::Json(serde_json::json!({ "error": message }))).into_response();
        if let InboxError::TooManyRequests { retry_after, .. } = &self {
            let seconds = retry_after.as_secs().max(1);
            if let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string()) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
        }
        response
    }
}
