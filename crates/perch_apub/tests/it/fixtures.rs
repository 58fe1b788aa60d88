//! Objects as other servers send them (crates/perch_apub/fixtures, written
//! from each server's documented and observed shapes), read by our parser.
//! Each case states what must come out, so a parser regression fails a
//! named fixture.

use std::path::PathBuf;

use perch_apub::objects::note::{NoteError, ReceivedNote, parse_note, visibility_of};
use perch_core::status::Visibility;
use serde_json::Value;

fn fixture(path: &str) -> Value {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The object of a Create, or the document itself.
fn note(path: &str) -> Result<ReceivedNote, NoteError> {
    let document = fixture(path);
    let object = if document["type"] == "Create" {
        document["object"].clone()
    } else {
        document
    };
    parse_note(&object)
}

fn followers(actor: &str) -> String {
    format!("{actor}/followers")
}

#[test]
fn every_fixture_is_covered_by_a_case() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut found = Vec::new();
    for software in std::fs::read_dir(&root).expect("fixtures") {
        let software = software.expect("entry").path();
        let name = software.file_name().unwrap().to_string_lossy().to_string();
        if name == "signatures" {
            continue;
        }
        for file in std::fs::read_dir(&software).expect("folder") {
            let file = file.expect("entry").path();
            found.push(format!(
                "{name}/{}",
                file.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    found.sort();
    let mut covered: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    covered.sort();
    assert_eq!(found, covered, "add a case for every new fixture");
}

const CASES: &[&str] = &[
    "gotosocial/create_note_unlisted.json",
    "lemmy/page.json",
    "mastodon/create_note_direct.json",
    "mastodon/create_note_followers.json",
    "mastodon/create_note_public.json",
    "misskey/create_note.json",
    "peertube/video.json",
    "pleroma/create_chat_message.json",
];

#[test]
fn mastodon_public_note() {
    let note = note("mastodon/create_note_public.json").expect("parses");
    let alice = "https://mastodon.example/users/alice";
    assert_eq!(note.attributed_to.as_str(), alice);
    assert_eq!(
        visibility_of(&note, Some(&followers(alice))),
        Visibility::Public
    );
    assert_eq!(note.mentions.len(), 1);
    assert_eq!(note.mentions[0].as_str(), "https://perch.example/users/bob");
    assert_eq!(note.hashtags, ["Birds"]);
    assert_eq!(note.language.as_deref(), Some("en"));
    assert_eq!(
        note.url.as_deref(),
        Some("https://mastodon.example/@alice/113456789012345678")
    );
    assert!(
        note.content.contains("class=\"u-url mention\""),
        "{}",
        note.content
    );
    let picture = &note.attachments[0];
    assert_eq!((picture.width, picture.height), (Some(1200), Some(800)));
    assert_eq!(picture.description.as_deref(), Some("A robin on a branch"));
    assert_eq!(picture.media_type.as_deref(), Some("image/jpeg"));
    assert!(picture.blurhash.is_some());
    assert!(!note.sensitive);
}

#[test]
fn mastodon_direct_and_followers_only_notes() {
    let alice = "https://mastodon.example/users/alice";
    let direct = note("mastodon/create_note_direct.json").expect("parses");
    assert_eq!(
        visibility_of(&direct, Some(&followers(alice))),
        Visibility::Direct
    );
    assert_eq!(direct.spoiler_text, "a secret");
    assert!(direct.sensitive);
    assert_eq!(
        direct.in_reply_to.as_ref().map(|u| u.as_str()),
        Some("https://perch.example/users/bob/statuses/1")
    );
    let private = note("mastodon/create_note_followers.json").expect("parses");
    assert_eq!(
        visibility_of(&private, Some(&followers(alice))),
        Visibility::Private
    );
}

#[test]
fn pleroma_chat_message_is_read_and_cleaned() {
    let message = note("pleroma/create_chat_message.json").expect("parses");
    assert_eq!(
        message.attributed_to.as_str(),
        "https://pleroma.example/users/carol"
    );
    assert_eq!(message.to, ["https://perch.example/users/bob"]);
    assert!(message.content.contains("bob"));
    assert!(!message.content.contains("script"), "{}", message.content);
    assert_eq!(
        visibility_of(
            &message,
            Some("https://pleroma.example/users/carol/followers")
        ),
        Visibility::Direct
    );
}

#[test]
fn misskey_note_with_its_extensions() {
    let note = note("misskey/create_note.json").expect("parses");
    assert!(
        note.content.contains("みなさんこんにちは"),
        "{}",
        note.content
    );
    assert_eq!(
        visibility_of(
            &note,
            Some("https://misskey.example/users/9abcdefghi/followers")
        ),
        Visibility::Public
    );
    assert_eq!(note.published, Some(1_795_176_000_000));
}

#[test]
fn gotosocial_addresses_with_single_strings() {
    let note = note("gotosocial/create_note_unlisted.json").expect("parses");
    let dan = "https://gts.example/users/dan";
    assert_eq!(note.to, [followers(dan)]);
    assert_eq!(
        visibility_of(&note, Some(&followers(dan))),
        Visibility::Unlisted
    );
    assert_eq!(
        note.spoiler_text, "",
        "an empty summary is no content warning"
    );
    assert!(!note.sensitive);
}

#[test]
fn lemmy_page_keeps_its_title_and_link_attachment() {
    let page = note("lemmy/page.json").expect("parses");
    assert!(
        page.content
            .starts_with("<p>Spotted a &lt;kingfisher&gt;</p>"),
        "{}",
        page.content
    );
    assert_eq!(page.hashtags, ["birds"]);
    assert_eq!(page.attachments.len(), 1, "Lemmy links attachments by href");
    assert_eq!(
        page.attachments[0].url,
        "https://example.org/kingfisher.jpg"
    );
    assert_eq!(visibility_of(&page, None), Visibility::Public);
}

#[test]
fn peertube_video_is_not_a_note() {
    assert_eq!(
        note("peertube/video.json"),
        Err(NoteError::NotANote("Video".to_owned()))
    );
}
