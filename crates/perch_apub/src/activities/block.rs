//! Block of an actor, and its Undo (built with [`super::like::build_undo_of`]).
//!
//! A Block goes to the blocked actor's server so that it may hide the
//! blocker from the blocked; a received Block is honoured the same way
//! (the inbox handler calls perch_domain's `blocks`).

use perch_core::outbound::BlockNote;
use serde_json::{Value, json};

use super::AS_CONTEXT;

pub fn build_block(block: &BlockNote) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": block.uri,
        "type": "Block",
        "actor": block.actor.uri,
        "object": block.target.uri,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activities::like::build_undo_of;
    use crate::activities::test_actor as actor;

    #[test]
    fn block_and_its_undo() {
        let block = BlockNote {
            uri: "https://here.example/activities/9".to_owned(),
            actor: actor("https://here.example/users/alice", None),
            target: actor("https://there.example/users/bob", Some("there.example")),
        };
        let body = build_block(&block);
        assert_eq!(body["type"], "Block");
        assert_eq!(body["object"], "https://there.example/users/bob");
        let undo = build_undo_of(body);
        assert_eq!(undo["type"], "Undo");
        assert_eq!(undo["id"], "https://here.example/activities/9/undo");
        assert_eq!(undo["object"]["type"], "Block");
        assert!(undo["object"].get("@context").is_none());
    }
}
