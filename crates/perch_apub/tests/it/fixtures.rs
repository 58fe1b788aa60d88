//! Objects as other servers send them (crates/perch_apub/fixtures, written
//! from each server's documented and observed shapes), read by our parser.
//! Each case states what must come out, so a parser regression fails a
//! named fixture.

use std::path::PathBuf;

use perch_apub::objects::note::{NoteError, ReceivedNote, parse_note, visibility_of};
use perch_apub::objects::person::{Person, remote_actor_from_person};
use perch_core::status::Visibility;
use perch_db::actors::RemoteActor;
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

/// An actor document read and checked as it is stored.
fn actor(path: &str) -> RemoteActor {
    let person: Person =
        serde_json::from_value(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    remote_actor_from_person(&person, 0).unwrap_or_else(|e| panic!("{path}: {e}"))
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
    "activitypub/actor_organization_endpoints_link.json",
    "friendica/actor_person.json",
    "friendica/create_note.json",
    "funkwhale/actor_person.json",
    "funkwhale/create_audio.json",
    "gotosocial/actor_person.json",
    "gotosocial/create_note_unlisted.json",
    "gotosocial/delete_without_id.json",
    "lemmy/accept_follow.json",
    "lemmy/actor_group.json",
    "lemmy/page.json",
    "mastodon/actor_person.json",
    "mastodon/announce_own_followers_only.json",
    "mastodon/create_note_direct.json",
    "mastodon/create_note_followers.json",
    "mastodon/create_note_public.json",
    "mastodon/create_question.json",
    "misskey/actor_service.json",
    "misskey/create_note.json",
    "mitra/actor_person.json",
    "mitra/create_note.json",
    "mobilizon/actor_person.json",
    "mobilizon/create_event.json",
    "peertube/actor_account.json",
    "peertube/actor_channel.json",
    "peertube/announce_video.json",
    "peertube/create_video.json",
    "peertube/video.json",
    "pixelfed/actor_person.json",
    "pixelfed/create_note_photo.json",
    "pleroma/actor_person.json",
    "pleroma/create_chat_message.json",
    "wordpress/actor_application.json",
    "wordpress/actor_person.json",
    "wordpress/create_article.json",
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
fn mastodon_question_is_a_status_with_its_poll() {
    let question = note("mastodon/create_question.json").expect("parses");
    assert_eq!(
        question.content, "<p>Which birds came to your garden this week?</p>",
        "a question's text has no title above it"
    );
    let poll = question.poll.clone().expect("a poll");
    assert!(poll.multiple, "anyOf");
    assert_eq!(
        poll.options,
        [
            ("Robin".to_owned(), 4),
            ("Wren".to_owned(), 2),
            ("Heron".to_owned(), 0)
        ]
    );
    assert_eq!(poll.voters_count, Some(5));
    assert!(!poll.closed);
    let end = chrono::DateTime::parse_from_rfc3339("2026-12-08T09:00:00Z")
        .expect("a time")
        .timestamp_millis();
    assert_eq!(poll.end_time, Some(end));
    assert_eq!(question.name, None);
    assert_eq!(perch_apub::objects::note::vote_of(&question), None);
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
fn actors_of_every_type_are_read() {
    let cases = [
        ("mastodon/actor_person.json", "Person", "alice"),
        ("gotosocial/actor_person.json", "Person", "dan"),
        ("misskey/actor_service.json", "Service", "weatherbot"),
        ("pleroma/actor_person.json", "Person", "carol"),
        ("lemmy/actor_group.json", "Group", "birds"),
        ("peertube/actor_account.json", "Person", "frank"),
        ("peertube/actor_channel.json", "Group", "frank_channel"),
        ("pixelfed/actor_person.json", "Person", "gina"),
        ("friendica/actor_person.json", "Person", "hanna"),
        ("wordpress/actor_person.json", "Person", "ivy"),
        (
            "wordpress/actor_application.json",
            "Application",
            "blog.example",
        ),
        ("mitra/actor_person.json", "Person", "jo"),
        ("funkwhale/actor_person.json", "Person", "kim"),
        ("mobilizon/actor_person.json", "Person", "lou"),
        (
            "activitypub/actor_organization_endpoints_link.json",
            "Organization",
            "council",
        ),
    ];
    for (path, kind, username) in cases {
        let remote = actor(path);
        assert_eq!(remote.actor_type, kind, "{path}");
        assert_eq!(remote.username, username, "{path}");
        assert!(remote.avatar_url.is_some(), "{path}: an avatar");
    }
    assert!(actor("misskey/actor_service.json").bot);
    assert!(actor("wordpress/actor_application.json").bot);
    assert_eq!(
        actor("pleroma/actor_person.json")
            .shared_inbox_url
            .as_deref(),
        Some("https://pleroma.example/inbox")
    );
    // Mitra's identity proofs and WordPress's links are no profile fields.
    assert_eq!(actor("mitra/actor_person.json").fields.len(), 1);
    assert_eq!(actor("wordpress/actor_person.json").fields.len(), 1);
    // Funkwhale's `url` is a list of Links: the page is the text/html one.
    assert_eq!(
        actor("funkwhale/actor_person.json").url.as_deref(),
        Some("https://funkwhale.example/@kim")
    );
}

#[test]
fn peertube_pictures_come_in_several_sizes() {
    let account = actor("peertube/actor_account.json");
    assert_eq!(
        account.avatar_url.as_deref(),
        Some("https://peertube.example/lazy-static/avatars/frank-600.png"),
        "the largest"
    );
    let channel = actor("peertube/actor_channel.json");
    assert_eq!(
        channel.header_url.as_deref(),
        Some("https://peertube.example/lazy-static/banners/channel-1920.jpg")
    );
    assert_eq!(
        channel.shared_inbox_url.as_deref(),
        Some("https://peertube.example/inbox")
    );
}

#[test]
fn odd_but_legal_actor_shapes() {
    let council = actor("activitypub/actor_organization_endpoints_link.json");
    assert_eq!(council.shared_inbox_url, None, "endpoints is a link");
    assert_eq!(
        council.outbox_url.as_deref(),
        Some("https://org.example/actors/council/outbox"),
        "an embedded collection"
    );
    assert_eq!(
        council.avatar_url.as_deref(),
        Some("https://org.example/icons/council.png"),
        "the one with a size"
    );
    assert_eq!(
        council.header_url.as_deref(),
        Some("https://org.example/banners/council.jpg"),
        "an Image whose url is a Link"
    );
    assert_eq!(
        council.url.as_deref(),
        Some("https://org.example/council"),
        "the text/html link"
    );
    assert_eq!(
        council.key_id,
        "https://org.example/actors/council#main-key"
    );
    assert!(!council.locked, "a flag that is not a boolean is absent");
}

#[test]
fn peertube_video_is_a_status_with_its_file_and_page() {
    for path in ["peertube/video.json", "peertube/create_video.json"] {
        let video = note(path).expect("parses");
        assert_eq!(
            video.attributed_to.as_str(),
            "https://peertube.example/accounts/frank",
            "the account, not the channel"
        );
        assert!(
            video
                .content
                .starts_with("<p>The 7:42 to the coast</p><p>Filmed at dawn.</p>"),
            "{}",
            video.content
        );
        assert!(
            video.content.contains("&lt;b&gt;leaves&lt;/b&gt;"),
            "Markdown is shown as written: {}",
            video.content
        );
        let page = "https://peertube.example/videos/watch/0d3b1a2c-4e5f-6789-abcd-ef0123456789";
        assert!(
            video.content.contains(&format!("<a href=\"{page}\"")),
            "{}",
            video.content
        );
        assert_eq!(video.url.as_deref(), Some(page));
        assert_eq!(video.attachments.len(), 1, "{:?}", video.attachments);
        let file = &video.attachments[0];
        assert_eq!(
            file.url,
            "https://peertube.example/static/web-videos/0d3b-720.mp4"
        );
        assert_eq!(file.media_type.as_deref(), Some("video/mp4"));
        assert_eq!((file.width, file.height), (Some(1280), Some(720)));
        assert_eq!(video.hashtags, ["trains"], "the empty tag is skipped");
        assert_eq!(video.spoiler_text, "");
        assert_eq!(visibility_of(&video, None), Visibility::Public);
    }
}

#[test]
fn funkwhale_track_and_mobilizon_event() {
    let track = note("funkwhale/create_audio.json").expect("parses");
    assert!(
        track
            .content
            .starts_with("<p>Rain on the roof</p><p>Recorded during the November storm.</p>"),
        "{}",
        track.content
    );
    assert_eq!(track.attachments.len(), 1);
    assert_eq!(
        track.attachments[0].media_type.as_deref(),
        Some("audio/ogg")
    );
    assert_eq!(
        track.url.as_deref(),
        Some("https://funkwhale.example/library/tracks/321")
    );
    assert_eq!(
        track.hashtags,
        ["ambient"],
        "a name with a space is no hashtag"
    );

    let event = note("mobilizon/create_event.json").expect("parses");
    assert!(
        event
            .content
            .starts_with("<p>Autumn walk by the canal</p><p>Meet at the lock."),
        "{}",
        event.content
    );
    assert_eq!(
        event.attachments.len(),
        1,
        "the banner; the web link is no file"
    );
    assert_eq!(
        event.attachments[0].url,
        "https://mobilizon.example/media/banner-canal.jpg"
    );
    assert_eq!(event.hashtags, ["walks"]);
}

#[test]
fn one_bad_element_is_skipped_not_fatal() {
    let note_ = note("friendica/create_note.json").expect("parses");
    assert_eq!(
        note_
            .mentions
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>(),
        ["https://perch.example/users/bob"],
        "a string tag and a Mention without a URL are skipped"
    );
    assert_eq!(note_.in_reply_to, None, "an empty inReplyTo is none");
    assert_eq!(note_.spoiler_text, "");
    assert_eq!(note_.attachments.len(), 1);

    let photo = note("pixelfed/create_note_photo.json").expect("parses");
    assert_eq!(
        photo.attachments.len(),
        1,
        "the attachment without a URL goes"
    );
    assert_eq!(
        photo.attachments[0].description.as_deref(),
        Some("Fog over a lake")
    );
    assert_eq!(
        (photo.attachments[0].width, photo.attachments[0].height),
        (Some(1080), Some(1350))
    );
    assert_eq!(photo.hashtags, ["film"]);

    let mitra = note("mitra/create_note.json").expect("parses");
    assert_eq!(mitra.mentions.len(), 1, "Emoji tags are not mentions");
    assert_eq!(mitra.attachments.len(), 1);
}

#[test]
fn wordpress_article_keeps_its_title() {
    let article = note("wordpress/create_article.json").expect("parses");
    assert!(
        article
            .content
            .starts_with("<p>Green tea</p><p>Steep it at 70 degrees.</p>"),
        "{}",
        article.content
    );
    assert_eq!(article.attachments.len(), 1);
    assert_eq!(article.hashtags, ["tea"]);
    assert_eq!(
        article.url.as_deref(),
        Some("https://blog.example/2026/11/21/green-tea/")
    );
}

#[test]
fn activities_that_are_not_notes_are_well_formed() {
    // Read through the inbox in the federation tests; here, their shape.
    let delete = fixture("gotosocial/delete_without_id.json");
    assert_eq!(delete["type"], "Delete");
    assert!(delete.get("id").is_none(), "GoToSocial sends no id");
    let announce = fixture("mastodon/announce_own_followers_only.json");
    assert_eq!(
        announce["object"],
        fixture("mastodon/create_note_followers.json")["object"]["id"]
    );
    let announce = fixture("peertube/announce_video.json");
    assert_eq!(announce["object"], fixture("peertube/video.json")["id"]);
    let accept = fixture("lemmy/accept_follow.json");
    assert_eq!(accept["object"]["type"], "Follow");
}
