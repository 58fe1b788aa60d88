//! The double knock: which HTTP signature scheme a server is sent.
//!
//! A server not heard from yet is sent an RFC 9421 signature first; if it
//! refuses that (401, or 400 or 403, which some servers answer to a
//! signature they cannot read), the same request goes again once, signed
//! with draft-cavage. The scheme a server accepted is remembered per host
//! (a delivery answered 2xx, or a fetch answered after the other scheme
//! was refused: most servers answer fetches whatever signs them, so the
//! first answer to a fetch proves nothing), in the database ([`perch_db::signature_schemes`])
//! and in memory, so that later requests use it at once and a known
//! server costs one request, as before. A known server that answers 401 to
//! its remembered scheme is tried once with the other, which is then
//! remembered if it works (a server upgraded, or moved behind another
//! front). Deliveries and the instance actor's signed fetches knock alike.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use perch_core::time::now_millis;
use serde::de::DeserializeOwned;
use url::Url;

use crate::ApubState;
use crate::fetch::FetchError;
use crate::objects::person::authority;
use crate::signatures::{Scheme, SigningKey};
use crate::signer::ActorSigner;

/// The scheme tried first with a server that has no remembered one.
pub const FIRST_SCHEME: Scheme = Scheme::Rfc9421;

/// Hosts kept in memory at most; past the cap the cache starts over, which
/// costs a database read per host, never correctness.
const MAX_CACHED_HOSTS: usize = 10_000;

/// The remembered schemes, read through from the database.
#[derive(Default)]
pub struct Schemes {
    cache: RwLock<HashMap<String, Option<Scheme>>>,
}

impl Schemes {
    /// What `host` accepted last, if it ever answered.
    pub async fn of(&self, state: &ApubState, host: &str) -> Option<Scheme> {
        if let Some(known) = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
        {
            return *known;
        }
        let stored = match perch_db::signature_schemes::find(&state.db, host).await {
            Ok(stored) => stored.as_deref().and_then(Scheme::from_name),
            Err(error) => {
                // Not worth failing a request over: knock as for a stranger.
                tracing::warn!(%host, %error, "cannot read the signature scheme of a server");
                return None;
            }
        };
        self.cache_put(host, stored);
        stored
    }

    /// `host` accepted `scheme`: remember it, writing only a change.
    async fn accepted(&self, state: &ApubState, host: &str, scheme: Scheme) {
        let cached = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
            .copied();
        if cached == Some(Some(scheme)) {
            return;
        }
        match perch_db::signature_schemes::remember(&state.db, host, scheme.as_str(), now_millis())
            .await
        {
            Ok(()) => {
                tracing::debug!(%host, scheme = scheme.as_str(), "remembered a server's signature scheme");
                self.cache_put(host, Some(scheme));
            }
            Err(error) => {
                tracing::warn!(%host, %error, "cannot remember the signature scheme of a server");
            }
        }
    }

    fn cache_put(&self, host: &str, scheme: Option<Scheme>) {
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED_HOSTS {
            cache.clear();
        }
        cache.insert(host.to_owned(), scheme);
    }
}

/// Whether an answer to a signed request is a refusal of its signature
/// worth knocking again for: 401 always, and 400 or 403 from a server
/// whose scheme is not known yet (they may be refusing the activity, but
/// once per server that costs little).
fn refused(status: u16, known: bool) -> bool {
    status == 401 || (!known && matches!(status, 400 | 403))
}

/// Delivers `body` to `inbox`, signed with `key` in the scheme the inbox's
/// server accepts (knocking twice if it refuses it). Returns the status of
/// the last answer.
pub async fn post(
    state: &ApubState,
    inbox: &Url,
    body: &[u8],
    key: Arc<SigningKey>,
) -> Result<u16, FetchError> {
    const CONTENT_TYPE: &str = "application/activity+json";
    let host = authority(inbox).unwrap_or_default();
    let known = state.signature_schemes.of(state, &host).await;
    let first = known.unwrap_or(FIRST_SCHEME);
    let signer = ActorSigner {
        key: key.clone(),
        scheme: first,
    };
    let status = state
        .fetcher
        .post(inbox, CONTENT_TYPE, body.to_vec(), Some(&signer))
        .await?;
    if (200..300).contains(&status) {
        state.signature_schemes.accepted(state, &host, first).await;
        return Ok(status);
    }
    if !refused(status, known.is_some()) {
        return Ok(status);
    }
    let second = first.other();
    tracing::debug!(%host, status, scheme = second.as_str(), "signature refused; knocking again");
    metrics::counter!("perch_signature_second_knocks", "kind" => "delivery").increment(1);
    let signer = ActorSigner {
        key,
        scheme: second,
    };
    let status = state
        .fetcher
        .post(inbox, CONTENT_TYPE, body.to_vec(), Some(&signer))
        .await?;
    if (200..300).contains(&status) {
        state.signature_schemes.accepted(state, &host, second).await;
    }
    Ok(status)
}

/// GETs a JSON document signed with `key` (the instance actor's), in the
/// scheme the server accepts, knocking twice if it is not known. Returns
/// the document and the URL it was served from.
pub async fn get_document<T: DeserializeOwned>(
    state: &ApubState,
    url: &Url,
    accept: &str,
    key: Arc<SigningKey>,
) -> Result<(T, Url), FetchError> {
    let host = authority(url).unwrap_or_default();
    let known = state.signature_schemes.of(state, &host).await;
    let first = known.unwrap_or(FIRST_SCHEME);
    let signer = ActorSigner {
        key: key.clone(),
        scheme: first,
    };
    match state.fetcher.get_document(url, accept, Some(&signer)).await {
        // Most servers serve public documents whatever signs the request:
        // an answer to the first knock says nothing of the scheme, and
        // only deliveries (always verified) and refusals teach one.
        Ok(found) => Ok(found),
        Err(FetchError::Status(status)) if refused(status, known.is_some()) => {
            let second = first.other();
            tracing::debug!(%host, status, scheme = second.as_str(), "signature refused; knocking again");
            metrics::counter!("perch_signature_second_knocks", "kind" => "fetch").increment(1);
            let signer = ActorSigner {
                key,
                scheme: second,
            };
            let found = state
                .fetcher
                .get_document(url, accept, Some(&signer))
                .await?;
            state.signature_schemes.accepted(state, &host, second).await;
            Ok(found)
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_worth_a_second_knock() {
        assert!(refused(401, true));
        assert!(refused(401, false));
        assert!(refused(403, false));
        assert!(refused(400, false));
        assert!(
            !refused(403, true),
            "a known server's 403 is about the activity"
        );
        assert!(!refused(404, false));
        assert!(!refused(500, false));
        assert!(!refused(202, false));
    }
}
