//! Finding remote actors: by actor id, by key id, or by `user@domain`
//! through WebFinger. What the database already knows (and is fresh) is
//! never fetched again.

use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::actors::{self, ActorKey};
use serde::Deserialize;
use url::Url;

use crate::ApubState;
use crate::fetch::FetchError;
use crate::objects::person::{Person, authority, remote_actor_from_person, unreadable_field};
use crate::objects::webfinger::actor_from_jrd;

/// How long a fetched actor is trusted before it is fetched again.
pub const ACTOR_TTL_MILLIS: i64 = 24 * 3600 * 1000;
const AP_ACCEPT: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";
const JRD_ACCEPT: &str = "application/jrd+json, application/json";

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("fetching failed: {0}")]
    Fetch(#[from] FetchError),
    #[error("the actor document is invalid: {0}")]
    Invalid(String),
    #[error("the document at {0} is not the actor it claims to be")]
    Mismatch(String),
    #[error("no ActivityPub actor found for {0}")]
    NotFound(String),
    #[error("that is a local account")]
    Local,
    #[error(transparent)]
    Db(#[from] perch_db::Error),
    #[error("signing the fetch failed: {0}")]
    Sign(String),
    /// Too many unknown keys of one server were asked for of late.
    #[error("too many unknown keys from {host}; try again in {} s", .retry_after.as_secs().max(1))]
    Throttled {
        host: String,
        retry_after: std::time::Duration,
    },
}

/// How many unknown keys of one server are fetched a minute, at most (all
/// at once after a quiet minute), unless the operator sets another number
/// (`PERCH_KEY_FETCHES_PER_MINUTE`). A server that brings more new actors
/// at once is asked to retry (429), as it does after any refusal.
pub const UNKNOWN_KEY_FETCHES_PER_MINUTE: u32 = 120;

/// The instance actor's key, which signs fetches.
async fn instance_key(
    state: &ApubState,
) -> Result<std::sync::Arc<crate::signatures::SigningKey>, ResolveError> {
    let actor = actors::find_by_uri(&state.db, &state.layout.instance_actor_uri())
        .await?
        .ok_or_else(|| ResolveError::Sign("no instance actor".to_owned()))?;
    let key = state
        .signing_keys
        .for_account(&state.db, actor.id)
        .await
        .map_err(|e| ResolveError::Sign(e.to_string()))?;
    Ok(key)
}

/// Fetch the actor at `uri` and store it (signed GET with the instance
/// actor's key, so servers with authorized fetch answer).
pub async fn fetch_actor(
    state: &ApubState,
    uri: &Url,
) -> Result<(AccountRow, ActorKey), ResolveError> {
    if authority(uri).as_deref() == Some(state.config.domain.as_str()) {
        return Err(ResolveError::Local);
    }
    let key = instance_key(state).await?;
    let (document, served_from): (serde_json::Value, Url) =
        crate::knock::get_document(state, uri, AP_ACCEPT, key).await?;
    let person = Person::deserialize(&document).map_err(|error| {
        // Everything this actor sends will be refused until it is readable:
        // worth an operator's attention, with what was wrong and whose.
        let field = unreadable_field(&document).unwrap_or("?");
        tracing::warn!(actor = %uri, field, %error, "an actor document cannot be read");
        ResolveError::Invalid(format!("{field}: {error}"))
    })?;
    // The document must be the one we asked for: an actor served by its own
    // origin (after any redirect) under its own id.
    let mut requested = uri.clone();
    requested.set_fragment(None);
    if person.id != requested || authority(&served_from) != authority(&person.id) {
        return Err(ResolveError::Mismatch(uri.to_string()));
    }
    let mut remote = remote_actor_from_person(&person, now_millis()).map_err(|error| {
        tracing::warn!(actor = %uri, %error, "an actor document is not usable");
        ResolveError::Invalid(error.to_string())
    })?;
    // A server whose media the instance rejects keeps no avatar or header.
    if state.federation_policy.rejects_media(&remote.domain) {
        remote.avatar_url = None;
        remote.header_url = None;
    }
    let id = actors::upsert_remote(&state.db, state.ids.next_id(), &remote).await?;
    // The custom emoji of its name and note, shown with the account.
    let emojis = crate::objects::note::emojis(&person.tag);
    if !emojis.is_empty() {
        // The account stands without them.
        if let Err(error) =
            perch_domain::emojis::remember_remote(&state.domain, &remote.domain, &emojis).await
        {
            tracing::warn!(actor = %uri, %error, "an actor's custom emoji were not kept");
        }
    }
    let mut row = perch_db::accounts::find_by_id(&state.db, perch_core::id::Id::from_i64(id))
        .await?
        .ok_or_else(|| ResolveError::NotFound(uri.to_string()))?;
    // Where it says it moved, when that account is known here (nothing is
    // fetched for it: a chain of moves costs no fetches).
    let moved_to = match &person.moved_to {
        Some(target) => actors::find_by_uri(&state.db, target.as_str()).await?,
        None => None,
    };
    if moved_to.is_some() || row.moved_to_account_id.is_some() {
        if let Err(error) =
            perch_domain::accounts::redirected(&state.domain, &row, moved_to.as_ref()).await
        {
            tracing::warn!(actor = %uri, %error, "where an actor moved was not kept");
        }
        row = perch_db::accounts::find_by_id(&state.db, perch_core::id::Id::from_i64(id))
            .await?
            .ok_or_else(|| ResolveError::NotFound(uri.to_string()))?;
    }
    let key = actors::key_of_account(&state.db, id)
        .await?
        .ok_or_else(|| ResolveError::NotFound(uri.to_string()))?;
    Ok((row, key))
}

/// The actor with this id, from the database when known and fresh.
pub async fn actor_by_uri(
    state: &ApubState,
    uri: &Url,
) -> Result<(AccountRow, ActorKey), ResolveError> {
    if let Some(row) = actors::find_by_uri(&state.db, uri.as_str()).await? {
        if let Some(key) = actors::key_of_account(&state.db, row.id).await? {
            let fresh = row.domain.is_none()
                || key
                    .fetched_at
                    .is_some_and(|at| now_millis() - at < ACTOR_TTL_MILLIS);
            if fresh {
                return Ok((row, key));
            }
        }
    }
    fetch_actor(state, uri).await
}

/// The key with this id; an unknown key is fetched through its owner
/// (the key id without its fragment is the actor, for every common server),
/// within the operator's limit per server
/// ([`UNKNOWN_KEY_FETCHES_PER_MINUTE`] by default).
pub async fn key_by_id(state: &ApubState, key_id: &str) -> Result<(ActorKey, bool), ResolveError> {
    if let Some(key) = actors::key_by_id(&state.db, key_id).await? {
        return Ok((key, false));
    }
    let mut owner =
        Url::parse(key_id).map_err(|_| ResolveError::Invalid("keyId is not a URL".to_owned()))?;
    owner.set_fragment(None);
    // Each unknown key costs a fetch: a server (or whoever names its keys)
    // gets only so many of them a minute.
    let host = authority(&owner).ok_or(ResolveError::Invalid("keyId has no host".to_owned()))?;
    if let Err(retry) = state.key_fetches.check(&host, std::time::Instant::now()) {
        return Err(ResolveError::Throttled {
            host,
            retry_after: retry.duration(),
        });
    }
    // A key id that is not a fragment of its owner's (GoToSocial's
    // `…/main-key`) names a document of its own, which names the owner.
    let key_url =
        Url::parse(key_id).map_err(|_| ResolveError::Invalid("keyId is not a URL".to_owned()))?;
    if key_url.fragment().is_none() {
        owner = key_owner(state, &key_url).await?;
    }
    // Either way, the owner's own document must name this key.
    let (_, key) = fetch_actor(state, &owner).await?;
    if key.key_id != key_id {
        return Err(ResolveError::Mismatch(key_id.to_owned()));
    }
    Ok((key, true))
}

/// The owner a key's own document names: an actor carrying the key in
/// its `publicKey` (the minimal one GoToSocial serves at the key's URL, or
/// the actor itself), or a key document with its `owner`. Served from the key's origin and
/// naming an owner there; the caller still checks that the owner's document
/// names the key, so the key document alone proves nothing.
async fn key_owner(state: &ApubState, key_url: &Url) -> Result<Url, ResolveError> {
    let key = instance_key(state).await?;
    let (document, served_from): (serde_json::Value, Url) =
        crate::knock::get_document(state, key_url, AP_ACCEPT, key).await?;
    let names_key = |v: &serde_json::Value| v["id"].as_str() == Some(key_url.as_str());
    let carries_key = crate::objects::shapes::items(&document["publicKey"])
        .into_iter()
        .any(names_key);
    let owner = if carries_key {
        document["id"].as_str()
    } else if names_key(&document) {
        document["owner"].as_str()
    } else {
        None
    }
    .and_then(|owner| Url::parse(owner).ok())
    .ok_or_else(|| ResolveError::Mismatch(key_url.to_string()))?;
    if authority(&served_from) != authority(key_url) || authority(&owner) != authority(key_url) {
        return Err(ResolveError::Mismatch(key_url.to_string()));
    }
    Ok(owner)
}

/// `user@domain` through WebFinger, then the actor.
pub async fn actor_by_acct(
    state: &ApubState,
    acct: &str,
) -> Result<(AccountRow, ActorKey), ResolveError> {
    let acct = acct.trim().trim_start_matches('@');
    let (user, domain) = acct
        .split_once('@')
        .filter(|(u, d)| !u.is_empty() && !d.is_empty())
        .ok_or_else(|| ResolveError::NotFound(acct.to_owned()))?;
    if domain.eq_ignore_ascii_case(&state.config.domain) {
        return Err(ResolveError::Local);
    }
    if let Some(row) = perch_db::profiles::find_remote(&state.db, user, domain).await? {
        return actor_by_uri(
            state,
            &Url::parse(&row.uri).map_err(|_| ResolveError::NotFound(acct.to_owned()))?,
        )
        .await;
    }
    let scheme = if state.config.allow_private_addresses {
        "http"
    } else {
        "https"
    };
    let mut url = Url::parse(&format!("{scheme}://{domain}/.well-known/webfinger"))
        .map_err(|_| ResolveError::NotFound(acct.to_owned()))?;
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{user}@{domain}"));
    let jrd: serde_json::Value = state.fetcher.get_json(&url, JRD_ACCEPT, None).await?;
    let actor = actor_from_jrd(&jrd).ok_or_else(|| ResolveError::NotFound(acct.to_owned()))?;
    fetch_actor(state, &actor).await
}

/// Fetch the object with id `uri` (signed by the instance actor). The
/// document must carry that id: an object is trusted only as served by its
/// own origin.
pub async fn fetch_object(state: &ApubState, uri: &Url) -> Result<serde_json::Value, ResolveError> {
    if authority(uri).as_deref() == Some(state.config.domain.as_str()) {
        return Err(ResolveError::Local);
    }
    let key = instance_key(state).await?;
    let (object, served_from): (serde_json::Value, Url) =
        crate::knock::get_document(state, uri, AP_ACCEPT, key).await?;
    if object["id"].as_str() != Some(uri.as_str()) || authority(&served_from) != authority(uri) {
        return Err(ResolveError::Mismatch(uri.to_string()));
    }
    Ok(object)
}
