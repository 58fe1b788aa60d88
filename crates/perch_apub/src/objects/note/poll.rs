//! Polls as ActivityPub carries them, in Mastodon's shape: a `Question`
//! whose `oneOf` (one choice) or `anyOf` (several) lists its options as
//! `Note`s with a `name` and their votes in `replies.totalItems`, with
//! `endTime`, `closed` once it ended, and `votersCount`; and votes, which
//! are `Note`s named after the chosen option, answering the `Question`.

use perch_core::outbound::PollNote;
use perch_core::poll::{MAX_REMOTE_OPTION_CHARACTERS, MAX_REMOTE_OPTIONS, MAX_REMOTE_VOTES};
use perch_core::time::UnixMillis;
use serde_json::{Value, json};
use url::Url;

use super::{ReceivedNote, time, timestamp};
use crate::objects::shapes::items;

/// A received `Question`'s poll, read leniently: options without a name
/// are skipped, missing totals are zero, totals are within
/// [`MAX_REMOTE_VOTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedPoll {
    /// Titles (cut to [`MAX_REMOTE_OPTION_CHARACTERS`]) and their votes,
    /// at most [`MAX_REMOTE_OPTIONS`].
    pub options: Vec<(String, i64)>,
    /// `anyOf`: several options may be chosen.
    pub multiple: bool,
    /// `endTime`.
    pub end_time: Option<UnixMillis>,
    /// `closed` is present (a time, or `true`): it ended.
    pub closed: bool,
    /// The time `closed` names.
    pub closed_at: Option<UnixMillis>,
    /// `votersCount`, when given.
    pub voters_count: Option<i64>,
}

impl ReceivedPoll {
    /// When it ends, as of `now`: when it was closed (or now, for a poll
    /// said closed without a time), else its `endTime`.
    pub fn expires_at(&self, now: UnixMillis) -> Option<UnixMillis> {
        if self.closed {
            Some(
                self.closed_at
                    .or(self.end_time.filter(|end| *end <= now))
                    .unwrap_or(now),
            )
        } else {
            self.end_time
        }
    }
}

/// The poll of a `Question`, if it lists any option.
pub(super) fn question(object: &Value) -> Option<ReceivedPoll> {
    let any_of = items(&object["anyOf"]);
    let (list, multiple) = if any_of.is_empty() {
        (items(&object["oneOf"]), false)
    } else {
        (any_of, true)
    };
    let options: Vec<(String, i64)> = list
        .into_iter()
        .filter_map(|option| {
            let name = option["name"].as_str()?.trim();
            if name.is_empty() {
                return None;
            }
            let votes = option["replies"]["totalItems"]
                .as_i64()
                .unwrap_or(0)
                .clamp(0, MAX_REMOTE_VOTES);
            Some((
                name.chars().take(MAX_REMOTE_OPTION_CHARACTERS).collect(),
                votes,
            ))
        })
        .take(MAX_REMOTE_OPTIONS)
        .collect();
    if options.is_empty() {
        return None;
    }
    let (closed, closed_at) = match &object["closed"] {
        Value::String(at) => (true, time(&Value::String(at.clone()))),
        Value::Bool(closed) => (*closed, None),
        _ => (false, None),
    };
    Some(ReceivedPoll {
        options,
        multiple,
        end_time: time(&object["endTime"]),
        closed,
        closed_at,
        voters_count: object["votersCount"]
            .as_i64()
            .map(|n| n.clamp(0, MAX_REMOTE_VOTES)),
    })
}

/// Add a local poll to its status's object (which is then a `Question`).
pub(super) fn add_question(object: &mut Value, poll: &PollNote) {
    let options: Vec<Value> = poll
        .options
        .iter()
        .map(|(title, votes)| {
            json!({
                "type": "Note",
                "name": title,
                "replies": { "type": "Collection", "totalItems": votes },
            })
        })
        .collect();
    object[if poll.multiple { "anyOf" } else { "oneOf" }] = json!(options);
    if let Some(end) = poll.expires_at {
        object["endTime"] = json!(timestamp(end));
    }
    if let Some(closed) = poll.closed_at {
        object["closed"] = json!(timestamp(closed));
    }
    object["votersCount"] = json!(poll.voters_count);
}

/// A vote: a `Note` (or, from Pleroma and Akkoma, an `Answer`) with a
/// `name` (the chosen option), answering a `Question`, without text. Its
/// option's title and the Question's id.
pub fn vote_of(note: &ReceivedNote) -> Option<(&str, &Url)> {
    let name = note.name.as_deref()?.trim();
    if name.is_empty() || !note.content.trim().is_empty() {
        return None;
    }
    Some((name, note.in_reply_to.as_ref()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_with_one_of_and_without_totals_is_read() {
        let poll = question(&json!({
            "type": "Question",
            "oneOf": [
                {"type": "Note", "name": "tea"},
                {"type": "Note", "name": " coffee ", "replies": {"totalItems": 3}},
                {"type": "Note"},
                "not an option",
            ],
            "endTime": "2026-12-08T10:00:00Z",
        }))
        .expect("a poll");
        assert_eq!(
            poll.options,
            [("tea".to_owned(), 0), ("coffee".to_owned(), 3)]
        );
        assert!(!poll.multiple && !poll.closed);
        assert_eq!(poll.voters_count, None);
        assert_eq!(poll.expires_at(0), poll.end_time);
    }

    #[test]
    fn any_of_is_several_choices_and_closed_ends_it() {
        let poll = question(&json!({
            "anyOf": [
                {"name": "a", "replies": {"totalItems": -4}},
                {"name": "b", "replies": {"totalItems": i64::MAX}},
            ],
            "endTime": "2026-12-08T10:00:00Z",
            "closed": "2026-12-08T09:00:00Z",
            "votersCount": 7,
        }))
        .expect("a poll");
        assert!(poll.multiple && poll.closed);
        assert_eq!(poll.options[0].1, 0, "negative totals are none");
        assert_eq!(poll.options[1].1, MAX_REMOTE_VOTES);
        assert_eq!(poll.voters_count, Some(7));
        assert_eq!(poll.expires_at(i64::MAX), poll.closed_at);
        let closed = question(&json!({"oneOf": [{"name": "a"}], "closed": true})).expect("poll");
        assert_eq!(closed.expires_at(42), Some(42));
        assert_eq!(question(&json!({"oneOf": []})), None);
    }

    #[test]
    fn a_local_poll_is_written_as_mastodon_writes_it() {
        let mut object = json!({"type": "Question"});
        add_question(
            &mut object,
            &PollNote {
                options: vec![("tea".to_owned(), 2), ("coffee".to_owned(), 1)],
                multiple: false,
                expires_at: Some(0),
                closed_at: Some(0),
                voters_count: 3,
            },
        );
        assert_eq!(object["oneOf"][1]["name"], "coffee");
        assert_eq!(object["oneOf"][0]["replies"]["totalItems"], 2);
        assert_eq!(object["endTime"], "1970-01-01T00:00:00Z");
        assert_eq!(object["closed"], object["endTime"]);
        assert_eq!(object["votersCount"], 3);
        assert!(object.get("anyOf").is_none());
        let round_trip = question(&object).expect("reads back");
        assert_eq!(round_trip.options[0], ("tea".to_owned(), 2));
    }
}
