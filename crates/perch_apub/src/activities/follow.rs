//! Follow, and the answers to it: Accept, Reject, and Undo of a Follow.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{AS_CONTEXT, ObjectRef};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Follow {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: FollowType,
    pub actor: Url,
    pub object: Url,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum FollowType {
    Follow,
}

/// Accept or Reject of a Follow; the object is the Follow, embedded or by id.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FollowAnswer {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: AnswerType,
    pub actor: Url,
    pub object: ObjectRef<Follow>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum AnswerType {
    Accept,
    Reject,
}

/// Undo of a Follow.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct UndoFollow {
    #[serde(rename = "@context", default, skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: UndoType,
    pub actor: Url,
    pub object: ObjectRef<Follow>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum UndoType {
    Undo,
}

fn context() -> Option<serde_json::Value> {
    Some(serde_json::Value::from(AS_CONTEXT))
}

/// `follower` asks to follow `target`; `id` is the Follow's id.
pub fn build_follow(id: Url, follower: Url, target: Url) -> Follow {
    Follow {
        context: context(),
        id,
        kind: FollowType::Follow,
        actor: follower,
        object: target,
    }
}

/// `target` answers `follow`. The Follow is embedded (without its context)
/// so that servers that do not keep Follow ids still recognise it.
pub fn build_answer(id: Url, kind: AnswerType, target: Url, follow: &Follow) -> FollowAnswer {
    let mut embedded = follow.clone();
    embedded.context = None;
    FollowAnswer {
        context: context(),
        id,
        kind,
        actor: target,
        object: ObjectRef::Object(Box::new(embedded)),
    }
}

/// `follow.actor` stops following; the Follow is embedded.
pub fn build_undo(id: Url, follow: &Follow) -> UndoFollow {
    let mut embedded = follow.clone();
    embedded.context = None;
    UndoFollow {
        context: context(),
        id,
        kind: UndoType::Undo,
        actor: follow.actor.clone(),
        object: ObjectRef::Object(Box::new(embedded)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn follow_round_trip_and_shape() {
        let follow = build_follow(
            url("https://a.example/follows/1"),
            url("https://a.example/users/ann"),
            url("https://b.example/users/ben"),
        );
        let json = serde_json::to_value(&follow).expect("json");
        assert_eq!(
            json,
            json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://a.example/follows/1",
                "type": "Follow",
                "actor": "https://a.example/users/ann",
                "object": "https://b.example/users/ben",
            })
        );
        let back: Follow = serde_json::from_value(json).expect("parses");
        assert_eq!(back, follow);
    }

    #[test]
    fn answers_embed_the_follow_and_accept_it_by_id_too() {
        let follow = build_follow(
            url("https://a.example/follows/1"),
            url("https://a.example/users/ann"),
            url("https://b.example/users/ben"),
        );
        let accept = build_answer(
            url("https://b.example/accepts/1"),
            AnswerType::Accept,
            url("https://b.example/users/ben"),
            &follow,
        );
        let json = serde_json::to_value(&accept).expect("json");
        assert_eq!(json["type"], "Accept");
        assert_eq!(json["object"]["type"], "Follow");
        assert!(json["object"].get("@context").is_none());

        // Some servers send the Follow by id only.
        let by_id: FollowAnswer = serde_json::from_value(json!({
            "id": "https://b.example/accepts/2",
            "type": "Reject",
            "actor": "https://b.example/users/ben",
            "object": "https://a.example/follows/1",
        }))
        .expect("parses");
        assert_eq!(by_id.kind, AnswerType::Reject);
        assert_eq!(
            by_id.object,
            ObjectRef::Id(url("https://a.example/follows/1"))
        );

        let undo = build_undo(url("https://a.example/follows/1/undo"), &follow);
        let json = serde_json::to_value(&undo).expect("json");
        assert_eq!(json["type"], "Undo");
        assert_eq!(json["actor"], "https://a.example/users/ann");
        assert_eq!(json["object"]["id"], "https://a.example/follows/1");
    }
}
