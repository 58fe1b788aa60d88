//! What a domain function can refuse, and why.

/// A refusal (the caller's fault: not found, not allowed, invalid) or a
/// failure (storage, publishing).
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The record does not exist, or the caller may not see it.
    #[error("not found")]
    NotFound,
    /// The caller may see it but not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request is well-formed but not acceptable (Mastodon's 422).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] perch_db::Error),
    /// Something that is nobody's input went wrong (key generation, the
    /// publisher, a worker that stopped).
    #[error("{0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(message: impl Into<String>) -> Self {
        DomainError::Invalid(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        DomainError::Forbidden(message.into())
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
