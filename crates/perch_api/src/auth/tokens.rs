//! JWT access tokens.
//!
//! Tokens are signed with Ed25519 (`EdDSA`): small, fast, and with no
//! parameters to get wrong. Signing keys live in the database (see
//! `perch_db::jwt_keys`) so that every process of an instance accepts every
//! other's tokens; the header's `kid` names the key. Verification pins the
//! algorithm (so `alg: none` and algorithm switches fail), checks issuer,
//! audience, expiry (with a small leeway) and signature. A token is only as
//! good as its server-side session, which the request extractor checks on
//! every request: revocation takes effect at once, whatever the expiry.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use perch_core::time::now_millis;
use perch_db::Db;
use perch_db::jwt_keys::{self, JwtKeyRow};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECONDS: u64 = 30;
/// An unknown `kid` makes us re-read the keys (another process may have
/// rotated), but not more often than this.
const RELOAD_INTERVAL: Duration = Duration::from_secs(10);

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The account id, or `app:<app id>` for client-credentials tokens.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The server-side session (token family) id.
    pub sid: String,
    pub client_id: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("The access token expired")]
    Expired,
    #[error("The access token is invalid")]
    Invalid,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("generating a JWT signing key failed")]
    Generate,
    #[error("stored JWT key {0} is unusable")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] perch_db::Error),
}

struct Keys {
    signing_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
}

/// Issues and verifies access tokens.
pub struct TokenKeys {
    issuer: String,
    audience: String,
    keys: RwLock<Keys>,
    last_reload: RwLock<Instant>,
}

impl TokenKeys {
    /// Load the keys, creating the first one when the database has none.
    pub async fn load_or_create(
        db: &Db,
        issuer: String,
        audience: String,
    ) -> Result<Self, KeyError> {
        let mut rows = jwt_keys::all(db).await?;
        if !rows.iter().any(|k| k.retired_at.is_none()) {
            jwt_keys::insert_if_no_active_key(db, &generate_key()?).await?;
            rows = jwt_keys::all(db).await?;
        }
        let keys = keys_from_rows(&rows)?;
        Ok(Self {
            issuer,
            audience,
            keys: RwLock::new(keys),
            last_reload: RwLock::new(Instant::now()),
        })
    }

    /// The id of the key new tokens are signed with.
    pub fn signing_kid(&self) -> String {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .signing_kid
            .clone()
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Sign `claims` with the current key.
    pub fn issue(&self, claims: &AccessClaims) -> Result<String, TokenError> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(keys.signing_kid.clone());
        jsonwebtoken::encode(&header, claims, &keys.signing).map_err(|error| {
            tracing::error!(%error, "signing an access token failed");
            TokenError::Invalid
        })
    }

    /// Check a token's signature and claims. Whether its session is still
    /// live is the caller's business.
    pub async fn verify(&self, db: &Db, token: &str) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.ok_or(TokenError::Invalid)?;
        if !self.knows(&kid) {
            self.reload(db).await;
        }
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        let key = keys.verifying.get(&kid).ok_or(TokenError::Invalid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        match jsonwebtoken::decode::<AccessClaims>(token, key, &validation) {
            Ok(data) => Ok(data.claims),
            Err(error) => match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Err(TokenError::Expired),
                _ => Err(TokenError::Invalid),
            },
        }
    }

    fn knows(&self, kid: &str) -> bool {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        keys.verifying.contains_key(kid)
    }

    async fn reload(&self, db: &Db) {
        {
            let mut last = self.last_reload.write().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < RELOAD_INTERVAL {
                return;
            }
            *last = Instant::now();
        }
        match jwt_keys::all(db)
            .await
            .map_err(KeyError::from)
            .and_then(|rows| keys_from_rows(&rows))
        {
            Ok(keys) => *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys,
            Err(error) => tracing::warn!(%error, "reloading JWT keys failed"),
        }
    }
}

fn generate_key() -> Result<JwtKeyRow, KeyError> {
    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Generate)?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| KeyError::Generate)?;
    Ok(JwtKeyRow {
        kid: crate::auth::secrets::random_token()[..16].to_owned(),
        algorithm: "EdDSA".to_owned(),
        private_key: STANDARD.encode(pkcs8.as_ref()),
        public_key: STANDARD.encode(pair.public_key().as_ref()),
        created_at: now_millis(),
        retired_at: None,
    })
}

fn keys_from_rows(rows: &[JwtKeyRow]) -> Result<Keys, KeyError> {
    let mut verifying = HashMap::new();
    let mut signing = None;
    for row in rows.iter().filter(|row| row.algorithm == "EdDSA") {
        let corrupt = || KeyError::Corrupt(row.kid.clone());
        let public = STANDARD.decode(&row.public_key).map_err(|_| corrupt())?;
        let decoding = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(&public))
            .map_err(|_| corrupt())?;
        verifying.insert(row.kid.clone(), decoding);
        // Rows come newest first: the first active key signs.
        if signing.is_none() && row.retired_at.is_none() {
            let private = STANDARD.decode(&row.private_key).map_err(|_| corrupt())?;
            signing = Some((row.kid.clone(), EncodingKey::from_ed_der(&private)));
        }
    }
    let (signing_kid, signing) = signing.ok_or(KeyError::Generate)?;
    Ok(Keys {
        signing_kid,
        signing,
        verifying,
    })
}
