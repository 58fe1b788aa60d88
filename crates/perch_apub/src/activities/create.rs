//! Create and Update of a Note (or a Question), and the Create of a vote
//! in a remote poll: the activity wraps the object with the same
//! addressing, so that receivers deliver it to the same audience.

use perch_core::outbound::{StatusNote, VoteNote};
use perch_core::time::now_millis;
use serde_json::{Value, json};

use super::AS_CONTEXT;
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

/// Update of a local poll's Question with its new totals (after a vote, at
/// its end); `version` gives each such Update an id of its own.
pub fn build_poll_update(status: &StatusNote, version: i64) -> Value {
    let (to, cc) = addressing(status);
    json!({
        "@context": note_context(),
        "id": format!("{}#updates/poll-{version}", status.uri),
        "type": "Update",
        "actor": status.author.uri,
        "published": timestamp(now_millis()),
        "to": to,
        "cc": cc,
        "object": build_note(status),
    })
}

/// Create of a local account's vote in a remote poll: a Note named after
/// the chosen option, answering the Question, addressed to its author only
/// (so that nobody else sees who voted for what).
pub fn build_vote(vote: &VoteNote) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{}/activity", vote.uri),
        "type": "Create",
        "actor": vote.voter.uri,
        "published": timestamp(vote.published),
        "to": [vote.poll_author.uri],
        "object": {
            "id": vote.uri,
            "type": "Note",
            "name": vote.choice,
            "attributedTo": vote.voter.uri,
            "to": [vote.poll_author.uri],
            "inReplyTo": vote.poll_uri,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activities::test_actor;

    #[test]
    fn a_vote_is_a_named_note_to_the_poll_author_only() {
        let vote = VoteNote {
            uri: "https://perch.example/users/ann#votes/9".to_owned(),
            voter: test_actor("https://perch.example/users/ann", None),
            poll_uri: "https://remote.example/users/ben/statuses/1".to_owned(),
            poll_author: test_actor("https://remote.example/users/ben", Some("remote.example")),
            choice: "Robin".to_owned(),
            published: 0,
        };
        let create = build_vote(&vote);
        assert_eq!(create["type"], "Create");
        assert_eq!(
            create["id"],
            "https://perch.example/users/ann#votes/9/activity"
        );
        assert_eq!(create["to"], json!(["https://remote.example/users/ben"]));
        let note = &create["object"];
        assert_eq!(note["type"], "Note");
        assert_eq!(note["name"], "Robin");
        assert_eq!(
            note["inReplyTo"],
            "https://remote.example/users/ben/statuses/1"
        );
        assert_eq!(note["to"], create["to"]);
        assert!(note.get("cc").is_none() && note.get("content").is_none());
    }
}
