//! Actors (`Person`, `Service`, `Application`, `Group`, `Organization`).

use perch_core::time::UnixMillis;
use perch_db::accounts::AccountRow;
use perch_db::actors::{ActorKey, LocalActor, RemoteActor};
use perch_db::profiles::FieldRow;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::shapes::{self, lenient, lenient_id};

/// An actor document. Read leniently: beyond what an actor cannot do
/// without (`id`, `type`, `preferredUsername`, `inbox`, `publicKey`), a
/// property in a shape we do not expect is read as absent (see
/// [`shapes`]), and unknown properties are ignored.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    #[serde(rename = "@context", skip_serializing_if = "Option::is_none", default)]
    pub context: Option<serde_json::Value>,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub preferred_username: String,
    #[serde(default, deserialize_with = "lenient")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "lenient_url")]
    pub url: Option<Url>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_image"
    )]
    pub icon: Option<Image>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_image"
    )]
    pub image: Option<Image>,
    pub inbox: Url,
    #[serde(default, deserialize_with = "lenient_id")]
    pub outbox: Option<Url>,
    #[serde(default, deserialize_with = "lenient_id")]
    pub followers: Option<Url>,
    #[serde(default, deserialize_with = "lenient_id")]
    pub following: Option<Url>,
    /// The pinned statuses (Mastodon's `toot:featured` collection).
    #[serde(
        default,
        deserialize_with = "lenient_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub featured: Option<Url>,
    /// The actor's other ids (account migration).
    #[serde(
        default,
        rename = "alsoKnownAs",
        deserialize_with = "lenient_ids",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub also_known_as: Vec<Url>,
    /// Where the account moved.
    #[serde(
        default,
        rename = "movedTo",
        deserialize_with = "lenient_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub moved_to: Option<Url>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_endpoints"
    )]
    pub endpoints: Option<Endpoints>,
    #[serde(deserialize_with = "one_public_key")]
    pub public_key: PublicKey,
    #[serde(default, deserialize_with = "lenient")]
    pub manually_approves_followers: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    pub discoverable: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub published: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "skip_bad_items"
    )]
    pub attachment: Vec<PropertyValue>,
    /// Tags: the `Emoji` of the name and summary (any other is ignored).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub tag: Value,
    /// What the actor's server takes beyond ActivityPub (Pleroma's
    /// `acceptsChatMessages`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub capabilities: Option<Capabilities>,
}

/// The actor's key for HTTP signatures (the security vocabulary's
/// `publicKey`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: String,
    pub owner: Url,
    pub public_key_pem: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepts_chat_messages: Option<bool>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    #[serde(default)]
    pub shared_inbox: Option<Url>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(rename = "type", default = "image_type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub url: Url,
}

fn image_type() -> String {
    "Image".to_owned()
}

/// A profile field.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    pub value: String,
}

/// `url`: a URL, a `Link`, or an array of them; the `text/html` one when
/// it is marked (the profile page).
fn lenient_url<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Url>, D::Error> {
    let value = Value::deserialize(de)?;
    Ok(shapes::page_url(&value))
}

/// `icon` or `image`: one picture, a URL, or several (PeerTube sends each
/// size); see [`shapes::best_image`].
fn lenient_image<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Image>, D::Error> {
    let value = Value::deserialize(de)?;
    Ok(shapes::best_image(&value).map(|link| Image {
        kind: "Image".to_owned(),
        media_type: link.media_type,
        url: link.href,
    }))
}

/// `endpoints`: an embedded object (whose `sharedInbox` may itself be
/// embedded), or a link to a document of endpoints, which names no shared
/// inbox we would fetch it for.
fn lenient_endpoints<'de, D: serde::Deserializer<'de>>(
    de: D,
) -> Result<Option<Endpoints>, D::Error> {
    let value = Value::deserialize(de)?;
    Ok(match &value {
        Value::Object(fields) => Some(Endpoints {
            shared_inbox: fields.get("sharedInbox").and_then(shapes::id_of),
        }),
        Value::String(_) => Some(Endpoints { shared_inbox: None }),
        _ => None,
    })
}

/// `publicKey`: one key, or an array of keys (the first that reads).
/// Which key signed a request is still checked against its `keyId`.
fn one_public_key<'de, D: serde::Deserializer<'de>>(de: D) -> Result<PublicKey, D::Error> {
    use serde::de::Error as _;
    let value = Value::deserialize(de)?;
    shapes::items(&value)
        .into_iter()
        .find_map(|key| serde_json::from_value::<PublicKey>(key.clone()).ok())
        .ok_or_else(|| D::Error::custom("publicKey: no key with id, owner and publicKeyPem"))
}

/// The first property that keeps `document` from being read as an actor,
/// to say why an actor is unusable.
pub fn unreadable_field(document: &Value) -> Option<&'static str> {
    let url = |v: &Value| v.as_str().is_some_and(|s| Url::parse(s).is_ok());
    if !url(&document["id"]) {
        return Some("id");
    }
    if !document["type"].is_string() {
        return Some("type");
    }
    if !document["preferredUsername"].is_string() {
        return Some("preferredUsername");
    }
    if !url(&document["inbox"]) {
        return Some("inbox");
    }
    let key_reads = shapes::items(&document["publicKey"])
        .into_iter()
        .any(|key| serde_json::from_value::<PublicKey>(key.clone()).is_ok());
    if !key_reads {
        return Some("publicKey");
    }
    None
}

/// Attachments other than PropertyValue (links, identity proofs…) are
/// skipped rather than failing the whole actor.
fn skip_bad_items<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<PropertyValue>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(de)?;
    let items = match value {
        Some(serde_json::Value::Array(items)) => items,
        Some(other @ serde_json::Value::Object(_)) => vec![other],
        _ => Vec::new(),
    };
    Ok(items
        .into_iter()
        .filter_map(|item| serde_json::from_value::<PropertyValue>(item).ok())
        .filter(|p| p.kind == "PropertyValue")
        .collect())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ActorError {
    #[error("actor type `{0}` is not one we federate with")]
    UnsupportedType(String),
    #[error("the public key's owner is not the actor")]
    KeyOwnerMismatch,
    #[error("the actor's inbox is on another host")]
    ForeignInbox,
    #[error("the actor has no host")]
    NoHost,
    #[error("preferredUsername is empty or too long")]
    BadUsername,
}

/// Profile fields kept of a remote actor (Mastodon allows 4, others more).
const MAX_REMOTE_FIELDS: usize = 16;

/// Other ids of an actor (`alsoKnownAs`) kept; the rest are dropped.
const MAX_ALIASES: usize = 16;

/// A list of ids, or one: each an id or an object with one; those that do
/// not read are skipped.
fn lenient_ids<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<Url>, D::Error> {
    let value = serde_json::Value::deserialize(de)?;
    Ok(super::shapes::items(&value)
        .into_iter()
        .filter_map(super::shapes::id_of)
        .collect())
}

/// An account's other ids, as stored (a JSON array).
pub fn aliases_of(row: &AccountRow) -> Vec<Url> {
    let stored: Vec<String> = row
        .also_known_as
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    stored.iter().filter_map(|s| Url::parse(s).ok()).collect()
}

/// Actor types, as servers send them.
pub const ACTOR_TYPES: &[&str] = &["Person", "Service", "Application", "Group", "Organization"];

/// Our actor document for a local account: its profile fields as
/// `PropertyValue` attachments, the custom emoji of its name and note as
/// `Emoji` tags, and where it moved, if it did.
pub fn person_of(actor: &LocalActor) -> Option<Person> {
    let mut person = person_from_row(&actor.row, &actor.key, &actor.fields)?;
    person.moved_to = actor
        .moved_to
        .as_deref()
        .and_then(|uri| Url::parse(uri).ok());
    if !actor.emojis.is_empty() {
        person.tag = Value::Array(
            actor
                .emojis
                .iter()
                .map(|emoji| super::note::emoji_tag(&emoji.shortcode, &emoji.image_url))
                .collect(),
        );
    }
    Some(person)
}

/// The document of [`person_of`] without tags or `movedTo`.
pub fn person_from_row(row: &AccountRow, key: &ActorKey, fields: &[FieldRow]) -> Option<Person> {
    let id = Url::parse(&row.uri).ok()?;
    let inbox = Url::parse(row.inbox_url.as_deref()?).ok()?;
    let parse = |s: &Option<String>| s.as_deref().and_then(|s| Url::parse(s).ok());
    let image = |url: &Option<String>| {
        parse(url).map(|url| Image {
            kind: "Image".to_owned(),
            media_type: media_type_of(url.path()),
            url,
        })
    };
    Some(Person {
        context: Some(super::actor_context()),
        kind: row.actor_type.clone(),
        preferred_username: row.username.clone(),
        name: Some(row.display_name.clone()),
        summary: Some(row.note.clone()),
        url: parse(&row.url),
        icon: image(&row.avatar_url),
        image: image(&row.header_url),
        inbox,
        outbox: parse(&row.outbox_url),
        followers: parse(&row.followers_url),
        following: parse(&row.following_url),
        featured: Url::parse(&perch_domain::urls::featured_of(&row.uri)).ok(),
        also_known_as: aliases_of(row),
        moved_to: None,
        endpoints: Some(Endpoints {
            shared_inbox: parse(&row.shared_inbox_url),
        }),
        public_key: PublicKey {
            id: key.key_id.clone(),
            owner: id.clone(),
            public_key_pem: key.public_key_pem.clone(),
        },
        manually_approves_followers: Some(row.locked),
        discoverable: Some(row.discoverable),
        published: Some(iso8601(row.created_at)),
        attachment: fields
            .iter()
            .map(|field| PropertyValue {
                kind: "PropertyValue".to_owned(),
                name: field.name.clone(),
                value: field.value.clone(),
            })
            .collect(),
        tag: Value::Null,
        capabilities: (row.actor_type == "Person").then_some(Capabilities {
            accepts_chat_messages: Some(true),
        }),
        id,
    })
}

/// A fetched actor document, checked, as a row to store.
pub fn remote_actor_from_person(
    person: &Person,
    fetched_at: UnixMillis,
) -> Result<RemoteActor, ActorError> {
    if !ACTOR_TYPES.contains(&person.kind.as_str()) {
        return Err(ActorError::UnsupportedType(person.kind.clone()));
    }
    let host = authority(&person.id).ok_or(ActorError::NoHost)?;
    if person.public_key.owner != person.id {
        return Err(ActorError::KeyOwnerMismatch);
    }
    let key_url = Url::parse(&person.public_key.id).map_err(|_| ActorError::KeyOwnerMismatch)?;
    if authority(&key_url).as_deref() != Some(host.as_str()) {
        return Err(ActorError::KeyOwnerMismatch);
    }
    if authority(&person.inbox).as_deref() != Some(host.as_str()) {
        return Err(ActorError::ForeignInbox);
    }
    let username = person.preferred_username.trim();
    if username.is_empty() || username.chars().count() > 100 {
        return Err(ActorError::BadUsername);
    }
    let same_host = |url: &Option<Url>| {
        url.as_ref()
            .filter(|u| authority(u).as_deref() == Some(host.as_str()))
            .map(Url::to_string)
    };
    Ok(RemoteActor {
        uri: person.id.to_string(),
        username: username.to_owned(),
        domain: host.clone(),
        url: person
            .url
            .as_ref()
            .filter(|u| super::is_web_url(u))
            .map(Url::to_string),
        actor_type: person.kind.clone(),
        display_name: person.name.clone().unwrap_or_default(),
        note: person
            .summary
            .as_deref()
            .map(super::html::sanitize)
            .unwrap_or_default(),
        locked: person.manually_approves_followers.unwrap_or(false),
        bot: matches!(person.kind.as_str(), "Service" | "Application"),
        discoverable: person.discoverable.unwrap_or(false),
        avatar_url: person
            .icon
            .as_ref()
            .filter(|i| super::is_web_url(&i.url))
            .map(|i| i.url.to_string()),
        header_url: person
            .image
            .as_ref()
            .filter(|i| super::is_web_url(&i.url))
            .map(|i| i.url.to_string()),
        inbox_url: person.inbox.to_string(),
        shared_inbox_url: same_host(
            &person
                .endpoints
                .as_ref()
                .and_then(|e| e.shared_inbox.clone()),
        ),
        outbox_url: same_host(&person.outbox),
        followers_url: same_host(&person.followers),
        following_url: same_host(&person.following),
        featured_url: same_host(&person.featured),
        also_known_as: person
            .also_known_as
            .iter()
            .take(MAX_ALIASES)
            .map(Url::to_string)
            .collect(),
        key_id: person.public_key.id.clone(),
        public_key_pem: person.public_key.public_key_pem.clone(),
        accepts_chat_messages: person
            .capabilities
            .as_ref()
            .and_then(|c| c.accepts_chat_messages)
            .unwrap_or(false),
        fields: person
            .attachment
            .iter()
            .take(MAX_REMOTE_FIELDS)
            .map(|field| (field.name.clone(), super::html::sanitize(&field.value)))
            .collect(),
        fetched_at,
    })
}

/// host[:port], lower-cased: how a server is named in `acct` and origin checks.
pub fn authority(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// Whether two URLs are on the same server (as [`authority`] names it). A
/// URL without a host is on no server, not on the same one as another.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    matches!((authority(a), authority(b)), (Some(a), Some(b)) if a == b)
}

fn media_type_of(path: &str) -> Option<String> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    Some(
        match ext.as_str() {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            _ => return None,
        }
        .to_owned(),
    )
}

fn iso8601(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_454_365_000), "2026-11-23T17:19:25Z");
    }

    #[test]
    fn remote_html_is_sanitised_and_keys_must_be_the_actors() {
        let json = serde_json::json!({
            "id": "https://remote.example/users/mallory",
            "type": "Person",
            "preferredUsername": "mallory",
            "name": "Mallory",
            "summary": "<p>hi<script>steal()</script><img src=x onerror=y></p>",
            "inbox": "https://remote.example/users/mallory/inbox",
            "publicKey": {
                "id": "https://remote.example/users/mallory#main-key",
                "owner": "https://remote.example/users/mallory",
                "publicKeyPem": "-----BEGIN PUBLIC KEY-----"
            },
            "attachment": [
                {"type": "PropertyValue", "name": "Site", "value": "<a href=\"javascript:x()\">click</a>"},
                {"type": "IdentityProof", "name": "ignored", "signatureValue": "x"}
            ]
        });
        let person: Person = serde_json::from_value(json.clone()).expect("parses");
        let remote = remote_actor_from_person(&person, 1).expect("valid");
        assert_eq!(remote.note, "<p>hi</p>");
        assert_eq!(remote.fields.len(), 1);
        assert_eq!(remote.fields[0].0, "Site");
        assert!(
            !remote.fields[0].1.contains("javascript"),
            "{}",
            remote.fields[0].1
        );
        assert_eq!(remote.domain, "remote.example");

        // Links and images only as web URLs.
        let mut hostile = json.clone();
        hostile["url"] = serde_json::json!("javascript:alert(document.cookie)");
        hostile["icon"] =
            serde_json::json!({"type": "Image", "url": "data:image/svg+xml,<svg onload=x()>"});
        hostile["image"] =
            serde_json::json!({"type": "Image", "url": "https://remote.example/header.png"});
        let person: Person = serde_json::from_value(hostile).expect("parses");
        let remote = remote_actor_from_person(&person, 1).expect("valid");
        assert_eq!(remote.url, None);
        assert_eq!(remote.avatar_url, None);
        assert_eq!(
            remote.header_url.as_deref(),
            Some("https://remote.example/header.png")
        );

        let mut stolen = json;
        stolen["publicKey"]["owner"] = serde_json::json!("https://remote.example/users/alice");
        let person: Person = serde_json::from_value(stolen).expect("parses");
        assert_eq!(
            remote_actor_from_person(&person, 1).err(),
            Some(ActorError::KeyOwnerMismatch)
        );
    }

    #[test]
    fn authority_includes_non_default_ports() {
        let url = Url::parse("https://Example.COM:8443/users/a").expect("url");
        assert_eq!(authority(&url).as_deref(), Some("example.com:8443"));
        let url = Url::parse("https://example.com/users/a").expect("url");
        assert_eq!(authority(&url).as_deref(), Some("example.com"));
    }
}
