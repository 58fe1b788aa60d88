//! Create and Update of a Note: the activity wraps the object with the same
//! addressing, so that receivers deliver it to the same audience.

use perch_core::outbound::StatusNote;
use serde_json::{Value, json};

use crate::objects::note::{addressing, build_note, note_context, timestamp};

/// Create of a local status; its id is the status's id with `/activity`.
pub fn build_create(status: &StatusNote) -> Value {
    let (to, cc) = addressing(status);
    json!({
        "@context": note_context(),
        "id": format!("{}/activity", status.uri),
        "type": "Create",
        "actor": status.author.uri,
        "published": timestamp(status.published),
        "to": to,
        "cc": cc,
        "object": build_note(status),
    })
}

/// Update of an edited local status; each edit has its own id.
pub fn build_update(status: &StatusNote) -> Value {
    let (to, cc) = addressing(status);
    let version = status.updated.unwrap_or(status.published);
    json!({
        "@context": note_context(),
        "id": format!("{}#updates/{version}", status.uri),
        "type": "Update",
        "actor": status.author.uri,
        "published": timestamp(version),
        "to": to,
        "cc": cc,
        "object": build_note(status),
    })
}
