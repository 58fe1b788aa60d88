//! Delete of a local status: a Tombstone in place of the Note, sent to
//! everyone who received the Note.

use perch_core::outbound::StatusNote;
use serde_json::{Value, json};

use super::AS_CONTEXT;
use crate::objects::note::addressing;

pub fn build_delete(status: &StatusNote) -> Value {
    let (to, cc) = addressing(status);
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{}#delete", status.uri),
        "type": "Delete",
        "actor": status.author.uri,
        "to": to,
        "cc": cc,
        "object": { "id": status.uri, "type": "Tombstone" },
    })
}
