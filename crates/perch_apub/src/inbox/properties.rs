//! Properties of the inbox's reading of activities over hostile input:
//! arbitrary JSON, and real servers' Creates (the fixtures) and Updates,
//! Likes and Undos with parts replaced. Nothing panics, and whatever passes
//! the checks an activity passes before it is queued and when its note is
//! read never has an id, or carries a note, on a server other than its
//! actor's, nor a note by someone else.

use proptest::prelude::*;
use serde::Deserialize;
use serde_json::json;

use super::activity::Activity;
use super::note::checked_note;
use super::*;
use crate::objects::note::ReceivedNote;
use crate::objects::properties::{arbitrary_json, config, mutated};

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("a fixture is JSON")
}

fn documents() -> Vec<Value> {
    let mut documents: Vec<Value> = [
        include_str!("../../fixtures/mastodon/create_note_public.json"),
        include_str!("../../fixtures/mastodon/create_note_direct.json"),
        include_str!("../../fixtures/misskey/create_note.json"),
        include_str!("../../fixtures/gotosocial/create_note_unlisted.json"),
        include_str!("../../fixtures/pleroma/create_chat_message.json"),
    ]
    .into_iter()
    .map(fixture)
    .collect();
    let mut update = documents[0].clone();
    update["type"] = json!("Update");
    update["id"] = json!("https://mastodon.example/users/alice#updates/1");
    documents.push(update);
    documents.push(json!({
        "id": "https://mastodon.example/users/alice#likes/1",
        "type": "Like",
        "actor": "https://mastodon.example/users/alice",
        "object": "https://perch.example/users/bob/statuses/1",
    }));
    documents.push(json!({
        "id": "https://mastodon.example/users/alice#follows/1/undo",
        "type": "Undo",
        "actor": {"id": "https://mastodon.example/users/alice", "type": "Person"},
        "object": {
            "id": "https://mastodon.example/users/alice#follows/1",
            "type": "Follow",
            "actor": "https://mastodon.example/users/alice",
            "object": "https://perch.example/users/bob",
        },
    }));
    documents
}

/// What the inbox and then the worker make of `activity`, with the
/// network left out: the envelope and origin checks it passes before it
/// is queued, its typed reading, and for a Create or Update with an
/// embedded object, the note read from it by the check `note_of` ends
/// with (on its own, without the check of the object's id before it).
fn received(activity: &Value) -> Result<(Url, Url, Option<ReceivedNote>), InboxError> {
    let (id, kind, actor) = envelope(activity)?;
    check_origin(activity, &id, &kind, &actor)?;
    let _ = Activity::deserialize(activity);
    let object = &activity["object"];
    let note = match kind.as_str() {
        "Create" | "Update" if object.is_object() => checked_note(object, &actor)?,
        _ => None,
    };
    Ok((id, actor, note))
}

fn check(activity: &Value) -> Result<(), TestCaseError> {
    let Ok((id, actor, note)) = received(activity) else {
        return Ok(());
    };
    prop_assert!(same_origin(&id, &actor), "{activity}");
    if let Some(note) = note {
        prop_assert!(same_origin(&note.id, &actor), "{activity}");
        prop_assert_eq!(&note.attributed_to, &actor, "{}", activity);
        prop_assert!(!note.content.contains("<script"), "{}", activity);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn hostile_activities_never_pass_as_another_servers(
        activity in prop_oneof![
            1 => arbitrary_json(),
            6 => prop::sample::select(documents()).prop_flat_map(mutated),
        ]
    ) {
        check(&activity)?;
    }
}

#[test]
fn the_fixtures_pass_as_they_are() {
    for activity in documents() {
        let (_, _, note) = received(&activity).unwrap_or_else(|e| panic!("{e}: {activity}"));
        assert_eq!(
            note.is_some(),
            matches!(activity["type"].as_str(), Some("Create" | "Update")),
            "{activity}"
        );
    }
}
