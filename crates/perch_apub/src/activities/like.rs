//! Like of a status, and its Undo.

use perch_core::outbound::Reaction;
use serde_json::{Value, json};

use super::AS_CONTEXT;

pub fn build_like(like: &Reaction) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": like.uri,
        "type": "Like",
        "actor": like.actor.uri,
        "object": like.status_uri,
    })
}

/// Undo of a reaction (Like or Announce): the original is embedded, without
/// its context, so receivers that do not keep its id still recognise it.
pub fn build_undo_of(mut original: Value) -> Value {
    let id = original["id"].as_str().map(|id| format!("{id}/undo"));
    let actor = original["actor"].clone();
    if let Value::Object(map) = &mut original {
        map.remove("@context");
    }
    json!({
        "@context": AS_CONTEXT,
        "id": id,
        "type": "Undo",
        "actor": actor,
        "object": original,
    })
}
