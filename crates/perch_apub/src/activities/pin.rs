//! Pins: `Add` of a status to its author's `featured` collection, and
//! `Remove` from it, as Mastodon sends them to the author's followers.

use perch_core::outbound::PinNote;
use serde_json::{Value, json};

use super::{AS_CONTEXT, PUBLIC};

/// `Add` (pinned) or `Remove` (unpinned).
pub fn build_pin(pin: &PinNote, pinned: bool) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": pin.uri,
        "type": if pinned { "Add" } else { "Remove" },
        "actor": pin.actor.uri,
        "object": pin.status_uri,
        "target": pin.featured_url,
        "to": [PUBLIC],
    })
}
