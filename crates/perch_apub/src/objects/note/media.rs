//! Media objects (`Video`, `Audio`, `Image`, `Event`) read as statuses:
//! which of their links is the file to show, the thumbnail when there is
//! no file, and the HTML of their description and of the link to the
//! original page.

use serde_json::Value;
use url::Url;

use super::ReceivedAttachment;
use crate::objects::shapes::{Link, best_image, links};
use perch_core::content::escape_html;

/// A link to a file, as an attachment: web URLs only.
pub(super) fn received(file: &Link) -> Option<ReceivedAttachment> {
    let url = crate::objects::web_url(file.href.as_str())?;
    Some(ReceivedAttachment {
        url,
        media_type: file.media_type.clone(),
        description: None,
        blurhash: None,
        width: file.width.and_then(|w| i32::try_from(w).ok()),
        height: file.height.and_then(|h| i32::try_from(h).ok()),
    })
}

fn is_kind(link: &Link, prefix: &str) -> bool {
    link.media_type
        .as_deref()
        .is_some_and(|m| m.starts_with(prefix))
}

/// The attachments a media object carries in its `url` (the file itself)
/// or, when it links no file, its `icon` (a thumbnail). A video gives its
/// tallest file (PeerTube lists one per resolution), a track its first
/// audio file, a picture its first image or untyped link.
pub(super) fn attachments(kind: &str, object: &Value) -> Vec<ReceivedAttachment> {
    let all: Vec<Link> = links(&object["url"])
        .into_iter()
        .filter(|l| crate::objects::is_web_url(&l.href))
        .collect();
    let file = match kind {
        "Video" => {
            let mut best: Option<&Link> = None;
            for link in all.iter().filter(|l| is_kind(l, "video/")) {
                if best.is_none_or(|b| link.height.unwrap_or(0) > b.height.unwrap_or(0)) {
                    best = Some(link);
                }
            }
            best.cloned()
        }
        "Audio" => all.iter().find(|l| is_kind(l, "audio/")).cloned(),
        "Image" => {
            let declared = object["mediaType"]
                .as_str()
                .filter(|m| m.starts_with("image/"));
            all.iter()
                .find(|l| is_kind(l, "image/") || (l.media_type.is_none() && declared.is_some()))
                .map(|l| Link {
                    media_type: l.media_type.clone().or(declared.map(str::to_owned)),
                    ..l.clone()
                })
        }
        _ => None,
    };
    let file = file.or_else(|| {
        best_image(&object["icon"]).map(|thumbnail| Link {
            media_type: thumbnail
                .media_type
                .clone()
                .or(Some("image/jpeg".to_owned())),
            ..thumbnail
        })
    });
    let mut found: Vec<ReceivedAttachment> = file.iter().filter_map(received).collect();
    if let Some(first) = found.first_mut() {
        first.description = object["name"].as_str().map(str::to_owned);
    }
    found
}

/// Plain text (or Markdown, shown as written) as paragraphs: blank lines
/// part them, single line breaks stay.
pub(super) fn plain_text_html(text: &str) -> String {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p).replace('\n', "<br>")))
        .collect()
}

/// A description that may be HTML or plain text, as HTML.
pub(super) fn as_paragraph(text: &str) -> String {
    if text.trim_start().starts_with('<') {
        text.to_owned()
    } else {
        plain_text_html(text)
    }
}

/// The link to the original page, below the text.
pub(super) fn link_paragraph(page: &Url) -> String {
    let href = escape_html(page.as_str());
    format!("<p><a href=\"{href}\">{href}</a></p>")
}
