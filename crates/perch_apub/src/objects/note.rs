//! Notes: a local status as the ActivityPub object we publish, and a
//! received object read into the fields a status is stored with.
//!
//! Sending builds Mastodon's shape (addressing derived from visibility,
//! `Mention` and `Hashtag` tags, `Document` attachments). Receiving is
//! lenient where servers differ (a string or an array, an embedded object
//! or an id, `Article`/`Page` beside `Note`) and strict on ids.

use chrono::{DateTime, SecondsFormat, Utc};
use perch_core::outbound::StatusNote;
use perch_core::status::Visibility;
use perch_core::time::UnixMillis;
use serde_json::{Value, json};
use url::Url;

use crate::activities::{AS_CONTEXT, PUBLIC};
use crate::objects::html::sanitize;
pub use crate::objects::shapes::id_of;
use crate::objects::shapes::{Link, best_image, items, links, page_url};

/// The JSON-LD context of objects we send: ActivityStreams, plus the terms
/// Mastodon added that are not in it.
pub fn note_context() -> Value {
    json!([
        AS_CONTEXT,
        {
            "sensitive": "as:sensitive",
            "Hashtag": "as:Hashtag",
            "toot": "http://joinmastodon.org/ns#",
            "Emoji": "toot:Emoji",
            "blurhash": "http://joinmastodon.org/ns#blurhash",
        }
    ])
}

pub fn timestamp(millis: UnixMillis) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `to` and `cc` of a status, as Mastodon addresses them.
pub fn addressing(note: &StatusNote) -> (Vec<String>, Vec<String>) {
    let mentioned = note.mentions.iter().map(|m| m.actor.uri.clone());
    let followers = note.author_followers_url.clone();
    match note.visibility {
        Visibility::Public => (
            vec![PUBLIC.to_owned()],
            std::iter::once(followers).chain(mentioned).collect(),
        ),
        Visibility::Unlisted => (
            vec![followers],
            std::iter::once(PUBLIC.to_owned())
                .chain(mentioned)
                .collect(),
        ),
        Visibility::Private => (vec![followers], mentioned.collect()),
        Visibility::Direct => (mentioned.collect(), Vec::new()),
    }
}

/// The `Emoji` tag of one of this server's custom emoji.
pub fn emoji_tag(shortcode: &str, url: &str) -> Value {
    json!({
        "id": url,
        "type": "Emoji",
        "name": format!(":{shortcode}:"),
        "icon": { "type": "Image", "url": url },
    })
}

/// The Note of a local status.
pub fn build_note(note: &StatusNote) -> Value {
    let (to, cc) = addressing(note);
    let mut tags: Vec<Value> = note
        .mentions
        .iter()
        .map(|m| json!({ "type": "Mention", "href": m.actor.uri, "name": m.name }))
        .collect();
    tags.extend(note.tags.iter().map(
        |(name, href)| json!({ "type": "Hashtag", "href": href, "name": format!("#{name}") }),
    ));
    tags.extend(
        note.emojis
            .iter()
            .map(|(shortcode, url)| emoji_tag(shortcode, url)),
    );
    let attachments: Vec<Value> = note
        .attachments
        .iter()
        .map(|a| {
            json!({
                "type": "Document",
                "mediaType": a.media_type,
                "url": a.url,
                "name": a.description,
                "blurhash": a.blurhash,
                "width": a.width,
                "height": a.height,
            })
        })
        .collect();
    let summary = (!note.spoiler_text.is_empty()).then(|| note.spoiler_text.clone());
    let mut object = json!({
        "id": note.uri,
        "type": "Note",
        "summary": summary,
        "inReplyTo": note.in_reply_to,
        "published": timestamp(note.published),
        "url": note.url,
        "attributedTo": note.author.uri,
        "to": to,
        "cc": cc,
        "sensitive": note.sensitive,
        "content": note.content,
        "attachment": attachments,
        "tag": tags,
    });
    if let Some(language) = &note.language {
        object["contentMap"] = json!({ language: note.content });
    }
    if let Some(updated) = note.updated {
        object["updated"] = json!(timestamp(updated));
    }
    object
}

/// A received object, read into what a status is stored with. Content and
/// summary are sanitised here, once.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedNote {
    pub id: Url,
    pub attributed_to: Url,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub url: Option<String>,
    pub in_reply_to: Option<Url>,
    pub published: Option<UnixMillis>,
    pub updated: Option<UnixMillis>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// `Mention` hrefs.
    pub mentions: Vec<Url>,
    /// `Hashtag` names, without `#`.
    pub hashtags: Vec<String>,
    pub attachments: Vec<ReceivedAttachment>,
    /// `Emoji` tags: custom emoji of the note's server its text uses.
    pub emojis: Vec<perch_domain::emojis::RemoteEmoji>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedAttachment {
    pub url: String,
    pub media_type: Option<String>,
    pub description: Option<String>,
    pub blurhash: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("not a note: type {0}")]
    NotANote(String),
    #[error("the object has no valid `{0}`")]
    Missing(&'static str),
}

/// `Mention` tags read from one received note; later ones are dropped.
/// Mastodon sends one per mentioned account, and posts mentioning more than
/// a few dozen are rare.
pub const MAX_MENTIONS: usize = 100;
/// `Hashtag` tags read from one received note (distinct names); later
/// ones are dropped.
pub const MAX_HASHTAGS: usize = 100;
/// Addressees read from each of `to` and `cc`; later ones are dropped.
/// Above [`MAX_MENTIONS`], because Mastodon addresses every mentioned
/// account besides the public and followers collections.
pub const MAX_ADDRESSEES: usize = 200;

/// Object types stored as statuses.
const NOTE_TYPES: &[&str] = &[
    "Note",
    "Article",
    "Page",
    "Question",
    "ChatMessage",
    "Video",
    "Audio",
    "Image",
    "Event",
];

/// Object types that are media or events rather than text (PeerTube's
/// videos, Funkwhale's tracks, pictures, Mobilizon's events), shown as
/// Mastodon shows them: the `name` as a title, the description, the media
/// as attachments and a link to the original page. Their `summary` is a
/// description, not a content warning.
const MEDIA_TYPES: &[&str] = &["Video", "Audio", "Image", "Event"];

/// Strings of a value that is one string, an array of them, or objects
/// with ids.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .map(|s| vec![s.to_owned()])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `to` or `cc`, up to [`MAX_ADDRESSEES`].
fn addressees(value: &Value) -> Vec<String> {
    let mut found = strings(value);
    found.truncate(MAX_ADDRESSEES);
    found
}

fn time(value: &Value) -> Option<UnixMillis> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp_millis())
}

pub fn parse_note(object: &Value) -> Result<ReceivedNote, NoteError> {
    let kind = object["type"].as_str().unwrap_or_default();
    if !NOTE_TYPES.contains(&kind) {
        return Err(NoteError::NotANote(kind.to_owned()));
    }
    let is_media = MEDIA_TYPES.contains(&kind);
    let id = object["id"]
        .as_str()
        .and_then(|s| Url::parse(s).ok())
        .ok_or(NoteError::Missing("id"))?;
    let attributed_to =
        author_of(&object["attributedTo"]).ok_or(NoteError::Missing("attributedTo"))?;
    let (content_map_language, content_map_text) = match &object["contentMap"] {
        Value::Object(map) => map
            .iter()
            .find_map(|(lang, text)| {
                text.as_str()
                    .map(|t| (Some(lang.clone()), Some(t.to_owned())))
            })
            .unwrap_or((None, None)),
        _ => (None, None),
    };
    let raw_content = object["content"]
        .as_str()
        .map(str::to_owned)
        .or(content_map_text)
        .unwrap_or_default();
    let mut content = if object["mediaType"].as_str() == Some("text/markdown") {
        // PeerTube's descriptions: shown as the text they are.
        media::plain_text_html(&raw_content)
    } else {
        sanitize(&raw_content)
    };
    let summary = object["summary"].as_str().filter(|s| !s.trim().is_empty());
    if is_media && content.trim().is_empty() {
        if let Some(description) = summary {
            content = sanitize(&media::as_paragraph(description));
        }
    }
    // Everything but a note carries a title; show it above the text.
    if kind != "Note" {
        if let Some(name) = object["name"].as_str().filter(|n| !n.trim().is_empty()) {
            let title = sanitize(&format!(
                "<p>{}</p>",
                perch_core::content::escape_html(name)
            ));
            content = format!("{title}{content}");
        }
    }
    let page = page_url(&object["url"]).filter(super::is_web_url);
    if is_media {
        if let Some(page) = &page {
            content.push_str(&sanitize(&media::link_paragraph(page)));
        }
    }
    // A quote post: a link to what it quotes, unless its text has one.
    if let Some(quoted) = quoted(object) {
        let escaped = perch_core::content::escape_html(quoted.as_str());
        if !content.contains(quoted.as_str()) && !content.contains(&escaped) {
            content.push_str(&sanitize(&format!(
                "<p class=\"quote-inline\">RE: <a href=\"{escaped}\">{escaped}</a></p>"
            )));
        }
    }
    let spoiler_text = if is_media {
        String::new()
    } else {
        summary.map(plain_text).unwrap_or_default()
    };
    let (mentions, hashtags) = tags(&object["tag"]);
    let mut attachments: Vec<ReceivedAttachment> = items(&object["attachment"])
        .into_iter()
        .filter_map(attachment)
        .collect();
    if is_media {
        attachments.extend(media::attachments(kind, object));
    }
    Ok(ReceivedNote {
        id,
        attributed_to,
        content,
        sensitive: object["sensitive"].as_bool().unwrap_or(false) || !spoiler_text.is_empty(),
        spoiler_text,
        language: content_map_language,
        url: page.map(String::from),
        in_reply_to: id_of(&object["inReplyTo"]),
        published: time(&object["published"]),
        updated: time(&object["updated"]),
        to: addressees(&object["to"]),
        cc: addressees(&object["cc"]),
        mentions,
        hashtags,
        attachments,
        emojis: emojis(&object["tag"]),
    })
}

/// What a quote post quotes, by the names servers give it: FEP-e232's
/// `Link` tag to an ActivityStreams object, `quote` (FEP-044f),
/// `quoteUri` / `quoteUrl` (Fedibird, Akkoma) and Misskey's
/// `_misskey_quote`. A web URL only.
fn quoted(object: &Value) -> Option<Url> {
    let named = ["quote", "quoteUri", "quoteUrl", "_misskey_quote"]
        .iter()
        .find_map(|key| id_of(&object[*key]));
    let tagged = || {
        items(&object["tag"]).into_iter().find_map(|tag| {
            let media_type = tag["mediaType"].as_str().unwrap_or_default();
            let activity_json = media_type.starts_with("application/activity+json")
                || (media_type.starts_with("application/ld+json")
                    && media_type.contains("https://www.w3.org/ns/activitystreams"));
            (tag["type"] == "Link" && activity_json)
                .then(|| tag["href"].as_str().and_then(|h| Url::parse(h).ok()))
                .flatten()
        })
    };
    named.or_else(tagged).filter(super::is_web_url)
}

/// The `Emoji` tags of a `tag` list (or of an actor's): `name` is the
/// `:shortcode:`, `icon` the picture (a web URL). At most
/// [`perch_domain::emojis::MAX_PER_NOTE`]; a tag that does not read is
/// skipped.
pub fn emojis(value: &Value) -> Vec<perch_domain::emojis::RemoteEmoji> {
    let mut found: Vec<perch_domain::emojis::RemoteEmoji> = Vec::new();
    for tag in items(value) {
        if found.len() >= perch_domain::emojis::MAX_PER_NOTE {
            break;
        }
        if tag["type"] != "Emoji" {
            continue;
        }
        let Some(shortcode) = tag["name"].as_str().map(|n| n.trim_matches(':')) else {
            continue;
        };
        let Some(image) = best_image(&tag["icon"]).filter(|l| super::is_web_url(&l.href)) else {
            continue;
        };
        if perch_db::emojis::is_shortcode(shortcode)
            && !found.iter().any(|e| e.shortcode == shortcode)
        {
            found.push(perch_domain::emojis::RemoteEmoji {
                shortcode: shortcode.to_owned(),
                image_url: image.href.to_string(),
                uri: id_of(tag).map(|u| u.to_string()),
            });
        }
    }
    found
}

/// The author named by `attributedTo`: an id, an object, or an array of
/// them, where PeerTube names the account and its channel; the first
/// `Person` then, as Mastodon reads it, else the first id.
fn author_of(value: &Value) -> Option<Url> {
    let all = items(value);
    all.iter()
        .find(|a| a["type"] == "Person")
        .and_then(|a| id_of(a))
        .or_else(|| all.into_iter().find_map(id_of))
}

/// `Mention` hrefs and `Hashtag` names of a note's `tag`, within the
/// limits. A tag that does not read (no type, no href, not an object) is
/// skipped, and so are kinds we do not use (`Emoji`…).
fn tags(value: &Value) -> (Vec<Url>, Vec<String>) {
    let mut mentions = Vec::new();
    let mut hashtags: Vec<String> = Vec::new();
    // Bounded: past the limits, further tags cost a comparison each and
    // are dropped, however many the body holds.
    for tag in items(value) {
        match tag["type"].as_str() {
            Some("Mention") if mentions.len() < MAX_MENTIONS => {
                if let Some(href) = tag["href"].as_str().and_then(|s| Url::parse(s).ok()) {
                    if !mentions.contains(&href) {
                        mentions.push(href);
                    }
                }
            }
            Some("Hashtag") if hashtags.len() < MAX_HASHTAGS => {
                if let Some(name) = tag["name"].as_str() {
                    let name = name.trim_start_matches('#');
                    let valid =
                        !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
                    let lower = name.to_lowercase();
                    if valid && !hashtags.iter().any(|t| t.to_lowercase() == lower) {
                        hashtags.push(name.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    (mentions, hashtags)
}

/// One element of `attachment`, or `None` when it has no web URL of a
/// file (a page link, a malformed element).
fn attachment(a: &Value) -> Option<ReceivedAttachment> {
    // The file: `url` (a URL, a Link, or several), or `href` as Lemmy
    // links it. A link to a web page is not a file.
    if a["mediaType"]
        .as_str()
        .is_some_and(|m| m.starts_with("text/html"))
    {
        return None;
    }
    let file = links(&a["url"])
        .into_iter()
        .chain(links(&a["href"]))
        .find(|l| {
            !l.media_type
                .as_deref()
                .is_some_and(|m| m.starts_with("text/html"))
        })?;
    let file = Link {
        media_type: a["mediaType"]
            .as_str()
            .map(str::to_owned)
            .or(file.media_type),
        ..file
    };
    let mut received = media::received(&file)?;
    received.description = a["name"].as_str().map(str::to_owned);
    received.blurhash = a["blurhash"].as_str().map(str::to_owned);
    received.width = a["width"]
        .as_i64()
        .and_then(|w| i32::try_from(w).ok())
        .or(received.width);
    received.height = a["height"]
        .as_i64()
        .and_then(|h| i32::try_from(h).ok())
        .or(received.height);
    Some(received)
}

/// Who may see a received note, from its addressing: the public collection
/// in `to` is public, in `cc` unlisted; the author's followers collection
/// makes it private; otherwise only the addressed see it.
pub fn visibility_of(note: &ReceivedNote, followers_url: Option<&str>) -> Visibility {
    let is_public = |s: &String| s == PUBLIC || s == "as:Public" || s == "Public";
    if note.to.iter().any(is_public) {
        Visibility::Public
    } else if note.cc.iter().any(is_public) {
        Visibility::Unlisted
    } else if followers_url.is_some_and(|f| note.to.iter().chain(&note.cc).any(|s| s == f)) {
        Visibility::Private
    } else {
        Visibility::Direct
    }
}

/// Text of HTML (a summary that some servers send as HTML, a status for a
/// push notification), at most 1,000 characters.
pub fn plain_text(text: &str) -> String {
    let cleaned = ammonia::Builder::empty().clean(text).to_string();
    cleaned
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .chars()
        .take(1000)
        .collect()
}

mod media;
#[cfg(test)]
mod tests;
