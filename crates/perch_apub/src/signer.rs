//! Signing our outbound requests with an actor's key.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use perch_db::{Db, actors};

use crate::fetch::RequestSigner;
use crate::signatures::{Scheme, SigningKey, sign_with};

/// Signs with one actor's key, in one scheme.
pub struct ActorSigner {
    pub key: Arc<SigningKey>,
    pub scheme: Scheme,
}

impl RequestSigner for ActorSigner {
    fn sign(
        &self,
        method: &http::Method,
        url: &url::Url,
        headers: &mut http::HeaderMap,
        body: Option<&[u8]>,
    ) -> Result<(), String> {
        sign_with(
            self.scheme,
            &self.key,
            method,
            url,
            headers,
            body,
            SystemTime::now(),
        )
        .map_err(|e| e.to_string())
    }
}

/// Parsed private keys of local actors. Parsing a PEM key costs far more
/// than a signature, and the delivery worker signs for the same few actors
/// over and over.
#[derive(Default)]
pub struct SigningKeys {
    cache: RwLock<HashMap<i64, Arc<SigningKey>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("account {0} has no private key")]
    Missing(i64),
    #[error("account {0}'s private key is unusable")]
    Unusable(i64),
    #[error(transparent)]
    Db(#[from] perch_db::Error),
}

impl SigningKeys {
    /// The key of a local account.
    pub async fn for_account(
        &self,
        db: &Db,
        account_id: i64,
    ) -> Result<Arc<SigningKey>, SigningKeyError> {
        if let Some(key) = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&account_id)
        {
            return Ok(key.clone());
        }
        let stored = actors::key_of_account(db, account_id)
            .await?
            .ok_or(SigningKeyError::Missing(account_id))?;
        let pem = stored
            .private_key_pem
            .ok_or(SigningKeyError::Missing(account_id))?;
        let key = SigningKey::from_pem(stored.key_id, &pem)
            .map_err(|_| SigningKeyError::Unusable(account_id))?;
        let key = Arc::new(key);
        self.cache
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account_id, key.clone());
        Ok(key)
    }
}

/// Parsed public keys of remote actors, by key id. Parsing a PEM key costs
/// about a fifth of a verification, and the same servers deliver again and
/// again. An entry is used only while the stored PEM is unchanged, so a
/// rotated key is parsed afresh. Bounded: past the cap the cache starts
/// over, which costs parsing, never correctness.
#[derive(Default)]
pub struct VerifyingKeys {
    cache: RwLock<HashMap<String, (String, Arc<crate::signatures::VerifyingKey>)>>,
}

const MAX_CACHED_KEYS: usize = 10_000;

impl VerifyingKeys {
    pub fn get(
        &self,
        key_id: &str,
        pem: &str,
    ) -> Result<Arc<crate::signatures::VerifyingKey>, crate::signatures::KeyError> {
        if let Some((cached_pem, key)) = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key_id)
        {
            if cached_pem == pem {
                return Ok(key.clone());
            }
        }
        let key = Arc::new(crate::signatures::VerifyingKey::from_pem(pem)?);
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED_KEYS {
            cache.clear();
        }
        cache.insert(key_id.to_owned(), (pem.to_owned(), key.clone()));
        Ok(key)
    }
}
