//! What every handler can reach: storage, ids, and the API's settings.

use std::sync::Arc;
use std::time::Duration;

use perch_core::id::IdGenerator;
use perch_db::Db;
use url::Url;

use crate::auth::tokens::TokenKeys;
use crate::rate_limit::{RateLimiter, SignInLimits};

/// Who may sign up through `POST /api/v1/accounts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Anyone; the account can be used at once.
    Open,
    /// Anyone may ask; an administrator approves before sign-in works.
    Approval,
    /// Nobody: accounts are created by administrators (`perch user create`).
    Closed,
}

/// Who may read the servers this one blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DomainBlocksShown {
    Nobody,
    /// Signed-in users.
    Users,
    Everyone,
}

/// The API's settings, taken from the server's configuration.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// The instance's public base URL.
    pub public_url: Url,
    /// The federation domain: host[:port] of the public URL.
    pub domain: String,
    pub registrations: RegistrationMode,
    pub public_domain_blocks: DomainBlocksShown,
    /// Lifetime of JWT access tokens.
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token (each use issues a new one).
    pub refresh_token_ttl: Duration,
    /// Contact address shown by `/api/v1/instance`.
    pub contact_email: String,
    /// Instance title and short description shown to clients.
    pub title: String,
    pub description: String,
    /// Where uploaded media are stored (under `media/`).
    pub data_dir: std::path::PathBuf,
    /// Longest status, in characters as Mastodon counts them.
    pub max_status_characters: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::client_ip::TrustedProxies,
}

/// Shared state of the API's handlers. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub db: Db,
    pub ids: Arc<IdGenerator>,
    pub config: Arc<ApiConfig>,
    pub tokens: Arc<TokenKeys>,
    /// The key that signs Web Push requests (VAPID).
    pub vapid: Arc<crate::push::crypto::VapidKey>,
    pub sign_in_limits: Arc<SignInLimits>,
    /// Re-authentication of a signed-in user (password change, two-factor
    /// set-up, confirmation and disabling), per client address and account.
    pub reauth_limits: Arc<SignInLimits>,
    /// Accounts created through the API per client address.
    pub sign_up_limit: Arc<RateLimiter>,
    /// Every change goes through it.
    pub domain: perch_domain::Domain,
    /// The federation side: resolving remote accounts.
    pub federation: perch_apub::ApubState,
    /// This process's WebSocket connections.
    pub streaming: Arc<crate::streaming::Registry>,
    /// How many uploaded images are decoded at once.
    pub image_decodes: Arc<crate::images::limit::DecodeLimit>,
    /// Cancelled when the server shuts down (WebSocket connections close).
    pub shutdown: tokio_util::sync::CancellationToken,
}
