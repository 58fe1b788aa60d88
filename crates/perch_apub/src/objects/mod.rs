//! ActivityPub objects: protocol types, and pure mappers between them and
//! database rows (one direction each).

pub mod html;
pub mod note;
pub mod person;
#[cfg(test)]
pub(crate) mod properties;
pub mod shapes;
pub mod webfinger;

/// Whether a URL taken from another server may be stored and shown: a web
/// page or file (`https`, or `http`), never `javascript:`, `data:` or any
/// other scheme a link or an image source could turn against a reader.
pub fn is_web_url(url: &url::Url) -> bool {
    matches!(url.scheme(), "https" | "http") && url.host().is_some()
}

/// [`is_web_url`] for a URL as text.
pub fn web_url(text: &str) -> Option<String> {
    url::Url::parse(text)
        .ok()
        .filter(is_web_url)
        .map(|_| text.to_owned())
}

/// The JSON-LD context of actor documents: ActivityStreams, the security
/// vocabulary (publicKey), and the extension terms Mastodon defined and the
/// fediverse reads.
pub fn actor_context() -> serde_json::Value {
    serde_json::json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "discoverable": "toot:discoverable",
            "featured": { "@id": "toot:featured", "@type": "@id" },
            "indexable": "toot:indexable",
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "litepub": "http://litepub.social/ns#",
            "capabilities": "litepub:capabilities",
            "acceptsChatMessages": "litepub:acceptsChatMessages"
        }
    ])
}

/// The media type of ActivityPub documents we serve.
pub const ACTIVITY_JSON: &str = "application/activity+json; charset=utf-8";
