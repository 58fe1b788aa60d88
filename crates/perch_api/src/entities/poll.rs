//! Mastodon's Poll entity, built from rows by a pure function.

use perch_core::time::UnixMillis;
use perch_db::polls::{OptionRow, PollRow};
use serde::Serialize;

use super::{CustomEmoji, iso8601_millis};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Poll {
    pub id: String,
    pub expires_at: Option<String>,
    pub expired: bool,
    pub multiple: bool,
    pub votes_count: i64,
    pub voters_count: Option<i64>,
    pub options: Vec<PollOption>,
    pub emojis: Vec<CustomEmoji>,
    /// Only for a signed-in viewer, as Mastodon renders it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_votes: Option<Vec<i64>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PollOption {
    pub title: String,
    /// `null` while the totals are hidden (`hide_totals`, until it ends).
    pub votes_count: Option<i64>,
}

/// Who looks at a poll.
#[derive(Clone, Copy, Debug)]
pub enum PollViewer<'a> {
    /// Nobody signed in.
    Anonymous,
    /// A signed-in account, with the options it chose (sorted).
    Account { is_author: bool, choices: &'a [i32] },
}

/// `options` are the poll's, in order.
pub fn poll_entity(
    poll: &PollRow,
    options: &[&OptionRow],
    viewer: PollViewer<'_>,
    now: UnixMillis,
) -> Poll {
    let expired = poll.expired(now);
    let show_totals = expired || !poll.hide_totals;
    let (voted, own_votes) = match viewer {
        PollViewer::Anonymous => (None, None),
        // One's own poll counts as voted in, as Mastodon shows it.
        PollViewer::Account { is_author, choices } => (
            Some(is_author || !choices.is_empty()),
            Some(choices.iter().map(|c| i64::from(*c)).collect()),
        ),
    };
    Poll {
        id: poll.id.to_string(),
        expires_at: poll.expires_at.map(iso8601_millis),
        expired,
        multiple: poll.multiple,
        votes_count: poll.votes_count.max(0),
        voters_count: Some(poll.voters_count.max(0)),
        options: options
            .iter()
            .map(|o| PollOption {
                title: o.title.clone(),
                votes_count: show_totals.then_some(o.votes_count.max(0)),
            })
            .collect(),
        emojis: Vec::new(),
        voted,
        own_votes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(hide_totals: bool, expires_at: Option<i64>) -> PollRow {
        PollRow {
            id: 7,
            status_id: 1,
            multiple: false,
            hide_totals,
            expires_at,
            closed_at: None,
            votes_count: 3,
            voters_count: 3,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn option(position: i32, title: &str, votes_count: i64) -> OptionRow {
        OptionRow {
            poll_id: 7,
            position,
            title: title.to_owned(),
            votes_count,
        }
    }

    #[test]
    fn totals_hide_until_the_end_and_a_viewer_sees_its_votes() {
        let (tea, coffee) = (option(0, "tea", 2), option(1, "coffee", 1));
        let hidden = poll_entity(
            &poll(true, Some(1_000)),
            &[&tea, &coffee],
            PollViewer::Account {
                is_author: false,
                choices: &[1],
            },
            500,
        );
        assert_eq!(hidden.id, "7");
        assert!(!hidden.expired);
        assert_eq!(hidden.options[0].votes_count, None);
        assert_eq!(hidden.voted, Some(true));
        assert_eq!(hidden.own_votes, Some(vec![1]));
        let ended = poll_entity(
            &poll(true, Some(1_000)),
            &[&tea, &coffee],
            PollViewer::Anonymous,
            1_000,
        );
        assert!(ended.expired);
        assert_eq!(ended.options[0].votes_count, Some(2));
        let json = serde_json::to_value(&ended).expect("json");
        assert!(json.get("voted").is_none() && json.get("own_votes").is_none());
        assert_eq!(json["expires_at"], "1970-01-01T00:00:01.000Z");
    }
}
