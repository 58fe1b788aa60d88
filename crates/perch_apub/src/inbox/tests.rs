//! The checks of an activity's origin that need nothing but the activity.

use serde_json::json;

use super::note::checked_note;
use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).expect("a URL")
}

const ALICE: &str = "https://a.example/users/alice";

fn create(object: Value) -> Value {
    json!({
        "id": "https://a.example/activities/1",
        "type": "Create",
        "actor": ALICE,
        "object": object,
    })
}

fn origin_of(activity: &Value) -> Result<(), InboxError> {
    let (id, kind, actor) = envelope(activity)?;
    check_origin(activity, &id, &kind, &actor)
}

fn note(id: &str) -> Value {
    json!({"id": id, "type": "Note", "attributedTo": ALICE, "content": "<p>hi</p>"})
}

#[test]
fn an_activity_and_its_note_are_on_the_actors_server() {
    assert!(origin_of(&create(note("https://a.example/notes/1"))).is_ok());
    assert!(origin_of(&create(json!("https://a.example/notes/1"))).is_ok());
    assert!(origin_of(&create(json!("https://A.example/notes/1"))).is_ok());
    for elsewhere in [
        create(note("https://b.example/notes/1")),
        create(json!("https://b.example/notes/1")),
        create(json!("https://a.example:8443/notes/1")),
        create(json!([{"id": "https://b.example/notes/1"}])),
    ] {
        assert!(
            matches!(origin_of(&elsewhere), Err(InboxError::Forbidden(_))),
            "{elsewhere}"
        );
    }
    let mut activity = create(note("https://a.example/notes/1"));
    activity["id"] = json!("https://b.example/activities/1");
    assert!(matches!(
        origin_of(&activity),
        Err(InboxError::Forbidden(_))
    ));
}

#[test]
fn urls_without_a_host_are_on_no_server() {
    let activity = json!({
        "id": "urn:uuid:0d1f5b32-2b5e-4a55-8a55-6bd4b8f3f0a1",
        "type": "Like",
        "actor": "urn:x-actor:alice",
        "object": "https://a.example/notes/1",
    });
    assert!(matches!(
        origin_of(&activity),
        Err(InboxError::Forbidden(_))
    ));
}

#[test]
fn a_note_is_its_authors_and_on_its_authors_server() {
    let alice = url(ALICE);
    let ok = checked_note(&note("https://a.example/notes/1"), &alice).expect("accepted");
    assert_eq!(ok.map(|n| n.id), Some(url("https://a.example/notes/1")));
    assert!(matches!(
        checked_note(&note("https://b.example/notes/1"), &alice),
        Err(InboxError::Forbidden(_))
    ));
    let mut forged = note("https://a.example/notes/2");
    forged["attributedTo"] = json!("https://a.example/users/carol");
    assert!(matches!(
        checked_note(&forged, &alice),
        Err(InboxError::Forbidden(_))
    ));
    assert!(matches!(
        checked_note(
            &json!({"type": "Collection", "id": "https://a.example/c"}),
            &alice
        ),
        Ok(None)
    ));
}

#[test]
fn a_delete_without_an_id_gets_a_stable_one_on_its_actors_server() {
    let delete = |object: &str| json!({"type": "Delete", "actor": ALICE, "object": object});
    let (id, kind, _) = envelope(&delete("https://a.example/notes/1")).expect("accepted");
    assert_eq!(kind, "Delete");
    assert!(same_origin(&id, &url(ALICE)), "{id}");
    assert!(origin_of(&delete("https://a.example/notes/1")).is_ok());
    let (again, _, _) = envelope(&delete("https://a.example/notes/1")).expect("accepted");
    assert_eq!(id, again, "the same Delete, the same id: deduplicated");
    let (other, _, _) = envelope(&delete("https://a.example/notes/2")).expect("accepted");
    assert_ne!(id, other);
    // Only a Delete, and only one that names its object.
    assert!(matches!(
        envelope(&json!({"type": "Delete", "actor": ALICE})),
        Err(InboxError::Malformed(_))
    ));
    assert!(matches!(
        envelope(&json!({"type": "Like", "actor": ALICE, "object": "https://a.example/notes/1"})),
        Err(InboxError::Malformed(_))
    ));
    // An id that is given must still be a URL.
    assert!(matches!(
        envelope(
            &json!({"id": 7, "type": "Delete", "actor": ALICE, "object": "https://a.example/n"})
        ),
        Err(InboxError::Malformed(_))
    ));
}
