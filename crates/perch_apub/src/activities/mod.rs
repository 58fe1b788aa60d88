//! Activities, one file per kind: the protocol type, a pure builder for the
//! ones we send, and checks for the ones we receive.
//!
//! Received activities are parsed leniently where servers differ (an
//! embedded object or just its id) and strictly where safety depends on it
//! (ids, actors, origins).

pub mod actor;
pub mod announce;
pub mod block;
pub mod chat;
pub mod create;
pub mod delete;
pub mod flag;
pub mod follow;
pub mod like;
pub mod pin;

use serde::{Deserialize, Serialize};
use url::Url;

/// An object given by id, or embedded with its id.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ObjectRef<T> {
    Id(Url),
    Object(Box<T>),
}

/// The ActivityStreams context every activity we send carries.
pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";

/// The public collection, for addressing.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Whether a received address names the public collection: in full, or as
/// JSON-LD compaction writes it against the ActivityStreams context
/// (`as:Public`, as Fedify sends it, or `Public`).
pub fn is_public(address: &str) -> bool {
    matches!(address, PUBLIC | "as:Public" | "Public")
}

/// A test actor: local without a domain, remote with one.
#[cfg(test)]
pub(crate) fn test_actor(uri: &str, domain: Option<&str>) -> perch_core::outbound::ActorRef {
    perch_core::outbound::ActorRef {
        account_id: 1,
        uri: uri.to_owned(),
        domain: domain.map(str::to_owned),
        inbox_url: Some(format!("{uri}/inbox")),
        shared_inbox_url: None,
        suspended: false,
    }
}
