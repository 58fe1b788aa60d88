//! Received activities as types: one variant per kind the inbox applies,
//! each with its own file and handler. Parsing is lenient where servers
//! differ (an object embedded or given by id, an array where one value is
//! expected) and strict where safety depends on it (ids must be URLs).
//! The envelope (`id`, `actor`) was checked and verified before an
//! activity is queued; the variants hold the rest.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use url::Url;

use super::announce::Announce;
use super::answer::Answer;
use super::block::Block;
use super::create::Create;
use super::delete::Delete;
use super::flag::Flag;
use super::follow::Follow;
use super::like::Like;
use super::move_account::Move;
use super::pin::Pin;
use super::undo::Undo;
use super::update::Update;
use crate::objects::note::id_of;

/// What an activity names: given by id, or embedded with its id (the first
/// usable one of an array).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Id(pub Url);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        id_of(&value)
            .map(Id)
            .ok_or_else(|| D::Error::custom("expected an id, or an object with one"))
    }
}

/// The activity an Undo, Accept or Reject is about: by id, or embedded
/// with whatever of its type, actor and object it gives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Referenced {
    pub id: Option<Url>,
    pub kind: Option<String>,
    pub actor: Option<Url>,
    pub object: Option<Url>,
}

impl<'de> Deserialize<'de> for Referenced {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let referenced = match &value {
            Value::Object(fields) => Referenced {
                id: id_of(&value),
                kind: fields
                    .get("type")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                actor: fields.get("actor").and_then(id_of),
                object: fields.get("object").and_then(id_of),
            },
            other => Referenced {
                id: id_of(other),
                ..Referenced::default()
            },
        };
        if referenced.id.is_none() && referenced.kind.is_none() {
            return Err(D::Error::custom("expected an activity, or its id"));
        }
        Ok(referenced)
    }
}

/// A received activity, by its `type`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum Activity {
    Follow(Follow),
    Accept(Answer),
    Reject(Answer),
    Undo(Undo),
    Create(Create),
    Update(Update),
    Delete(Delete),
    Like(Like),
    /// Pleroma's and Akkoma's emoji reaction: counted as a favourite, as
    /// Misskey's reactions (Likes with a `_misskey_reaction`) are.
    EmojiReact(Like),
    Announce(Announce),
    Block(Block),
    Flag(Flag),
    /// An account moved to another.
    Move(Move),
    /// Pinned (to the `featured` collection).
    Add(Pin),
    /// Unpinned.
    Remove(Pin),
    /// A kind this server does not apply: acknowledged and dropped.
    #[serde(other)]
    Unsupported,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<Activity, serde_json::Error> {
        Activity::deserialize(&value)
    }

    #[test]
    fn objects_by_id_or_embedded() {
        let by_id = parse(json!({"type": "Like", "object": "https://a.example/notes/1"}));
        let embedded = parse(
            json!({"type": "Like", "object": {"id": "https://a.example/notes/1", "type": "Note"}}),
        );
        for parsed in [by_id, embedded] {
            match parsed.expect("parses") {
                Activity::Like(like) => {
                    assert_eq!(like.object.0.as_str(), "https://a.example/notes/1")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_undo_names_what_it_undoes() {
        let undo = parse(json!({
            "type": "Undo",
            "object": {"id": "https://a.example/likes/1", "type": "Like", "actor": "https://a.example/u", "object": {"id": "https://b.example/notes/2"}},
        }));
        match undo.expect("parses") {
            Activity::Undo(undo) => {
                assert_eq!(undo.object.kind.as_deref(), Some("Like"));
                assert_eq!(
                    undo.object.object.map(String::from).as_deref(),
                    Some("https://b.example/notes/2")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_kinds_are_unsupported_and_broken_ones_refused() {
        assert!(matches!(
            parse(json!({"type": "Arrive", "object": "x"})),
            Ok(Activity::Unsupported)
        ));
        assert!(parse(json!({"type": "Like", "object": 42})).is_err());
        assert!(parse(json!({"type": "Follow"})).is_err());
        assert!(parse(json!({"type": "Undo", "object": "not a url"})).is_err());
    }
}
