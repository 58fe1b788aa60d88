use perch_core::outbound::{ActorRef, Attachment, Mention, StatusNote};
use perch_core::status::Visibility;
use serde_json::json;

use super::*;

fn actor(uri: &str) -> ActorRef {
    ActorRef {
        account_id: 1,
        uri: uri.to_owned(),
        domain: None,
        inbox_url: None,
        shared_inbox_url: None,
        suspended: false,
    }
}

fn status(visibility: Visibility) -> StatusNote {
    StatusNote {
        uri: "https://a.example/users/ann/statuses/1".to_owned(),
        url: "https://a.example/@ann/1".to_owned(),
        author: actor("https://a.example/users/ann"),
        author_followers_url: "https://a.example/users/ann/followers".to_owned(),
        content: "<p>hi <span class=\"h-card\">@ben</span></p>".to_owned(),
        spoiler_text: String::new(),
        sensitive: false,
        language: Some("en".to_owned()),
        visibility,
        in_reply_to: None,
        in_reply_to_author: None,
        mentions: vec![Mention {
            actor: actor("https://b.example/users/ben"),
            name: "@ben@b.example".to_owned(),
        }],
        tags: vec![("Rust".to_owned(), "https://a.example/tags/rust".to_owned())],
        emojis: Vec::new(),
        attachments: vec![Attachment {
            url: "https://a.example/media/x.png".to_owned(),
            media_type: "image/png".to_owned(),
            description: Some("alt".to_owned()),
            blurhash: None,
            width: Some(4),
            height: Some(3),
        }],
        published: 1_795_000_000_000,
        updated: None,
        poll: None,
    }
}

#[test]
fn addressing_follows_visibility() {
    let followers = "https://a.example/users/ann/followers".to_owned();
    let ben = "https://b.example/users/ben".to_owned();
    let public = PUBLIC.to_owned();
    assert_eq!(
        addressing(&status(Visibility::Public)),
        (vec![public.clone()], vec![followers.clone(), ben.clone()])
    );
    assert_eq!(
        addressing(&status(Visibility::Unlisted)),
        (vec![followers.clone()], vec![public, ben.clone()])
    );
    assert_eq!(
        addressing(&status(Visibility::Private)),
        (vec![followers], vec![ben.clone()])
    );
    assert_eq!(
        addressing(&status(Visibility::Direct)),
        (vec![ben], Vec::<String>::new())
    );
}

#[test]
fn built_note_reads_back() {
    for visibility in [
        Visibility::Public,
        Visibility::Unlisted,
        Visibility::Private,
        Visibility::Direct,
    ] {
        let built = build_note(&status(visibility));
        let parsed = parse_note(&built).expect("our own note parses");
        assert_eq!(
            visibility_of(&parsed, Some("https://a.example/users/ann/followers")),
            visibility
        );
        assert_eq!(parsed.id.as_str(), "https://a.example/users/ann/statuses/1");
        assert_eq!(parsed.language.as_deref(), Some("en"));
        assert_eq!(parsed.mentions.len(), 1);
        assert_eq!(parsed.hashtags, vec!["Rust".to_owned()]);
        assert_eq!(parsed.attachments.len(), 1);
        assert_eq!(parsed.attachments[0].width, Some(4));
        assert_eq!(parsed.published, Some(1_795_000_000_000));
    }
}

#[test]
fn hostile_content_is_sanitised_and_odd_shapes_are_read() {
    let object = json!({
        "id": "https://b.example/objects/9",
        "type": "Article",
        "name": "Title <b>",
        "attributedTo": [{"id": "https://b.example/users/ben", "type": "Person"}],
        "content": "<p onclick=\"x()\">hi<script>alert(1)</script></p>",
        "summary": "<p>cw</p>",
        "to": "https://www.w3.org/ns/activitystreams#Public",
        "tag": {"type": "Hashtag", "name": "#Tag"},
        "url": [{"type": "Link", "href": "https://b.example/@ben/9"}],
        "inReplyTo": {"id": "https://a.example/users/ann/statuses/1"},
    });
    let parsed = parse_note(&object).expect("parses");
    assert_eq!(parsed.attributed_to.as_str(), "https://b.example/users/ben");
    assert!(!parsed.content.contains("script") && !parsed.content.contains("onclick"));
    assert!(
        parsed.content.starts_with("<p>Title &lt;b&gt;</p>"),
        "{}",
        parsed.content
    );
    assert_eq!(parsed.spoiler_text, "cw");
    assert!(parsed.sensitive);
    assert_eq!(parsed.hashtags, vec!["Tag".to_owned()]);
    assert_eq!(parsed.url.as_deref(), Some("https://b.example/@ben/9"));
    assert_eq!(
        parsed.in_reply_to.as_ref().map(Url::as_str),
        Some("https://a.example/users/ann/statuses/1")
    );
    assert_eq!(visibility_of(&parsed, None), Visibility::Public);
}

#[test]
fn refuses_what_is_not_a_note() {
    assert_eq!(
        parse_note(&json!({"type": "Person", "id": "https://b.example/u"})),
        Err(NoteError::NotANote("Person".to_owned()))
    );
    assert_eq!(
        parse_note(&json!({"type": "Note", "attributedTo": "https://b.example/u"})),
        Err(NoteError::Missing("id"))
    );
}

#[test]
fn links_and_attachments_only_as_web_urls() {
    let object = json!({
        "id": "https://b.example/objects/10",
        "type": "Note",
        "attributedTo": "https://b.example/users/ben",
        "content": "<p>hi</p>",
        "url": "javascript:alert(1)",
        "attachment": [
            {"type": "Document", "mediaType": "image/png", "url": "data:image/png;base64,AAAA"},
            {"type": "Document", "mediaType": "image/png", "url": "https://b.example/media/1.png"},
        ],
    });
    let parsed = parse_note(&object).expect("parses");
    assert_eq!(parsed.url, None);
    let urls: Vec<&str> = parsed.attachments.iter().map(|a| a.url.as_str()).collect();
    assert_eq!(urls, ["https://b.example/media/1.png"]);
}

#[test]
fn tags_and_addressees_are_bounded() {
    let mut tags: Vec<Value> = (0..MAX_MENTIONS + 50)
        .map(|i| json!({"type": "Mention", "href": format!("https://a.example/users/u{i}")}))
        .collect();
    tags.extend(
        (0..MAX_HASHTAGS + 50).map(|i| json!({"type": "Hashtag", "name": format!("#tag{i}")})),
    );
    // The same tag again, in another case, is one tag.
    tags.insert(0, json!({"type": "Hashtag", "name": "#TAG0"}));
    let many: Vec<String> = (0..MAX_ADDRESSEES + 50)
        .map(|i| format!("https://a.example/users/u{i}"))
        .collect();
    let note = parse_note(&json!({
        "id": "https://a.example/notes/1",
        "type": "Note",
        "attributedTo": "https://a.example/users/u0",
        "content": "<p>many</p>",
        "to": many,
        "cc": many,
        "tag": tags,
    }))
    .expect("a note");
    assert_eq!(note.mentions.len(), MAX_MENTIONS);
    assert_eq!(
        note.mentions.last().map(Url::as_str),
        Some(format!("https://a.example/users/u{}", MAX_MENTIONS - 1).as_str())
    );
    assert_eq!(note.hashtags.len(), MAX_HASHTAGS);
    assert_eq!(note.hashtags[0], "TAG0");
    assert!(!note.hashtags.iter().any(|t| t == "tag0"));
    assert_eq!(note.to.len(), MAX_ADDRESSEES);
    assert_eq!(note.cc.len(), MAX_ADDRESSEES);
}

#[test]
fn an_image_object_is_a_status_with_its_picture() {
    let image = json!({
        "id": "https://photos.example/objects/1",
        "type": "Image",
        "attributedTo": "https://photos.example/users/ann",
        "name": "Harbour at dusk",
        "summary": "Taken from the pier.",
        "mediaType": "image/jpeg",
        "url": "https://photos.example/files/1.jpg",
        "to": [PUBLIC],
    });
    let note = parse_note(&image).expect("an Image is stored");
    assert!(
        note.content
            .starts_with("<p>Harbour at dusk</p><p>Taken from the pier.</p>"),
        "{}",
        note.content
    );
    assert_eq!(note.spoiler_text, "", "a description, not a warning");
    assert!(!note.sensitive);
    assert_eq!(note.attachments.len(), 1);
    assert_eq!(
        note.attachments[0].url,
        "https://photos.example/files/1.jpg"
    );
    assert_eq!(
        note.attachments[0].media_type.as_deref(),
        Some("image/jpeg")
    );

    // Links to the file and to its page; the page is the status's URL.
    let mut linked = image.clone();
    linked["url"] = json!([
        {"type": "Link", "mediaType": "text/html", "href": "https://photos.example/p/1"},
        {"type": "Link", "mediaType": "image/png", "href": "https://photos.example/files/1.png", "width": 800, "height": 600}
    ]);
    let note = parse_note(&linked).expect("parses");
    assert_eq!(note.url.as_deref(), Some("https://photos.example/p/1"));
    assert_eq!(
        note.attachments[0].url,
        "https://photos.example/files/1.png"
    );
    assert_eq!(note.attachments[0].width, Some(800));
    assert!(
        note.content.contains("href=\"https://photos.example/p/1\""),
        "{}",
        note.content
    );

    // A hostile link is neither a file nor a page.
    let mut hostile = image;
    hostile["url"] = json!("javascript:alert(1)");
    let note = parse_note(&hostile).expect("parses");
    assert!(note.attachments.is_empty());
    assert_eq!(note.url, None);
    assert!(!note.content.contains("javascript"), "{}", note.content);
}
