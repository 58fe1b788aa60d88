//! Mastodon's Status entity and the entities inside it (StatusMention, Tag,
//! StatusEdit, Context, StatusSource), built from rows by pure functions.
//!
//! Every documented field is present; features Perch does not have
//! (cards) are their empty values. `filtered` is filled in by
//! `statuses::filtering` for the viewer.

use perch_core::status::Visibility;
use perch_db::accounts::AccountRow;
use perch_db::statuses::{EditRow, StatusRow};
use serde::Serialize;
use url::Url;

use super::account::{Account, account_from_row};
use super::filter::FilterResult;
use super::media::MediaAttachment;
use super::poll::Poll;
use super::{CustomEmoji, iso8601_millis};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    pub id: String,
    pub uri: String,
    pub url: Option<String>,
    pub created_at: String,
    pub account: Account,
    pub content: String,
    pub visibility: &'static str,
    pub sensitive: bool,
    pub spoiler_text: String,
    pub media_attachments: Vec<MediaAttachment>,
    pub application: Option<Application>,
    pub mentions: Vec<StatusMention>,
    pub tags: Vec<Tag>,
    pub emojis: Vec<CustomEmoji>,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub replies_count: i64,
    pub reblog: Option<Box<Status>>,
    pub poll: Option<Poll>,
    pub card: Option<serde_json::Value>,
    pub language: Option<String>,
    /// The source text: only in the answer to a delete (for "delete and
    /// redraft"), `null` elsewhere.
    pub text: Option<String>,
    pub edited_at: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    pub favourited: bool,
    pub reblogged: bool,
    pub muted: bool,
    pub bookmarked: bool,
    pub pinned: bool,
    /// The viewer's filters that match it (empty for nobody signed in).
    pub filtered: Vec<FilterResult>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Application {
    pub name: String,
    pub website: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusMention {
    pub id: String,
    pub username: String,
    pub url: String,
    pub acct: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tag {
    pub name: String,
    pub url: String,
}

/// What the viewer has done with a status.
#[derive(Clone, Copy, Debug, Default)]
pub struct ViewerState {
    pub favourited: bool,
    pub reblogged: bool,
    /// The viewer muted the status's conversation.
    pub muted: bool,
    /// The viewer (its author) pinned the status.
    pub pinned: bool,
    pub bookmarked: bool,
}

/// The rows a status is built from.
pub struct StatusParts<'a> {
    pub row: &'a StatusRow,
    pub author: &'a AccountRow,
    pub mentions: Vec<&'a AccountRow>,
    pub tags: Vec<&'a str>,
    pub viewer: ViewerState,
    pub reblog: Option<Status>,
    pub media: Vec<MediaAttachment>,
    pub poll: Option<Poll>,
}

pub fn status_from_parts(parts: StatusParts<'_>, public_url: &Url) -> Status {
    let StatusParts {
        row,
        author,
        mentions,
        tags,
        viewer,
        reblog,
        media,
        poll,
    } = parts;
    let tag_url = |name: &str| {
        let mut url = public_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear().push("tags").push(name);
        }
        url.to_string()
    };
    // A reblog shows no content of its own: clients render the original.
    let is_reblog = row.reblog_of_id.is_some();
    Status {
        id: row.id.to_string(),
        uri: row.uri.clone(),
        url: if is_reblog {
            None
        } else {
            row.url.clone().or_else(|| Some(row.uri.clone()))
        },
        created_at: iso8601_millis(row.created_at),
        account: account_from_row(author, public_url),
        content: if is_reblog {
            String::new()
        } else {
            row.content.clone()
        },
        visibility: Visibility::from_i16(row.visibility).as_str(),
        // A moderator may mark all of an author's media sensitive.
        sensitive: row.sensitive || author.sensitized_at.is_some(),
        spoiler_text: row.spoiler_text.clone(),
        media_attachments: media,
        application: None,
        mentions: mentions
            .into_iter()
            .map(|a| {
                let account = account_from_row(a, public_url);
                StatusMention {
                    id: account.id,
                    username: account.username,
                    url: account.url,
                    acct: account.acct,
                }
            })
            .collect(),
        tags: tags
            .into_iter()
            .map(|name| Tag {
                name: name.to_owned(),
                url: tag_url(name),
            })
            .collect(),
        emojis: Vec::new(),
        reblogs_count: row.reblogs_count.max(0),
        favourites_count: row.favourites_count.max(0),
        replies_count: row.replies_count.max(0),
        reblog: reblog.map(Box::new),
        poll,
        card: None,
        language: row.language.clone(),
        text: None,
        edited_at: row.edited_at.map(iso8601_millis),
        in_reply_to_id: row.in_reply_to_id.map(|id| id.to_string()),
        in_reply_to_account_id: row.in_reply_to_account_id.map(|id| id.to_string()),
        favourited: viewer.favourited,
        reblogged: viewer.reblogged,
        muted: viewer.muted,
        bookmarked: viewer.bookmarked,
        pinned: viewer.pinned,
        filtered: Vec::new(),
    }
}

/// Mastodon's Context: a status's ancestors and descendants.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Context {
    pub ancestors: Vec<Status>,
    pub descendants: Vec<Status>,
}

/// One version of a status (Mastodon's StatusEdit).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusEdit {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: String,
    pub account: Account,
    pub poll: Option<serde_json::Value>,
    pub media_attachments: Vec<serde_json::Value>,
    pub emojis: Vec<CustomEmoji>,
}

/// The versions of a status, oldest first, ending with the current one.
pub fn history(row: &StatusRow, edits: &[EditRow], author: &Account) -> Vec<StatusEdit> {
    let version = |content: &str, spoiler: &str, sensitive: bool, at: i64| StatusEdit {
        content: content.to_owned(),
        spoiler_text: spoiler.to_owned(),
        sensitive,
        created_at: iso8601_millis(at),
        account: author.clone(),
        poll: None,
        media_attachments: Vec::new(),
        emojis: Vec::new(),
    };
    let mut versions: Vec<StatusEdit> = edits
        .iter()
        .map(|e| version(&e.content, &e.spoiler_text, e.sensitive, e.created_at))
        .collect();
    versions.push(version(
        &row.content,
        &row.spoiler_text,
        row.sensitive,
        row.edited_at.unwrap_or(row.created_at),
    ));
    versions
}

/// Mastodon's StatusSource: the plain text to edit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusSource {
    pub id: String,
    pub text: String,
    pub spoiler_text: String,
}
