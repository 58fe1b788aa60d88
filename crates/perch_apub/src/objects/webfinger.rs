//! WebFinger's JSON Resource Descriptor (RFC 7033 §4.4): the document we
//! serve at `/.well-known/webfinger`, and the reading of another server's
//! answer when a `user@domain` is looked up.
//!
//! Reading is lenient where RFC 7033 is and where servers differ: unknown
//! members, `properties` whose values are `null`, and links we cannot use
//! (no `rel`, an `href` that is not a URL) are passed over rather than
//! failing the whole answer. What we take from it, the actor's URL, must be
//! a web URL.

use serde::{Deserialize, Serialize};
use url::Url;

use super::is_web_url;

/// A JSON Resource Descriptor as we serve it.
#[derive(Clone, Debug, Serialize)]
pub struct Jrd {
    pub subject: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Url>,
    pub links: Vec<JrdLink>,
}

/// One link of a [`Jrd`].
#[derive(Clone, Debug, Serialize)]
pub struct JrdLink {
    pub rel: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<Url>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// The media types under which an actor document is served.
fn is_activity_type(kind: &str) -> bool {
    let essence = kind.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/activity+json")
        || essence.eq_ignore_ascii_case("application/ld+json")
}

/// The actor a WebFinger answer points at: the href of its first `self`
/// link typed as an ActivityPub document, if that is a web URL. Anything
/// else in the answer, however malformed, is ignored.
pub fn actor_from_jrd(answer: &serde_json::Value) -> Option<Url> {
    #[derive(Deserialize)]
    struct Link {
        rel: String,
        #[serde(rename = "type")]
        kind: String,
        href: String,
    }
    answer
        .get("links")?
        .as_array()?
        .iter()
        .filter_map(|link| Link::deserialize(link).ok())
        .find(|link| link.rel == "self" && is_activity_type(&link.kind))
        .and_then(|link| Url::parse(&link.href).ok())
        .filter(is_web_url)
}

#[cfg(test)]
mod tests;
