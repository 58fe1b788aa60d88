//! The activities of crates/perch_apub/fixtures delivered through the real
//! inbox by a fake of their server (see `interop`), and what is stored of
//! them as a client reads it: PeerTube's videos, Funkwhale's tracks and
//! Mobilizon's events as statuses with their media, notes with a bad tag
//! or attachment, GoToSocial's Delete without an id, and a boost of one's
//! own followers-only post.

use perch_db::statuses::{self, StatusRow};
use perch_federation_tests::{Instance, PASSWORD};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::interop::{Peer, account_id};

/// B, with bob, and a fake of `origin` serving the actor at `actor_path`.
async fn peer_of(origin: &str, actor_path: &str) -> (Instance, Peer, Value) {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let peer = Peer::serve(origin, &b).await;
    let actor = peer.actor(actor_path);
    (b, peer, actor)
}

async fn row(b: &Instance, uri: &str) -> Option<StatusRow> {
    statuses::find_by_uri(&b.db, uri).await.expect("query")
}

/// The status with `uri` as bob reads it through the client API.
async fn as_bob_reads_it(b: &Instance, uri: &str) -> Value {
    let row = row(b, uri)
        .await
        .unwrap_or_else(|| panic!("{uri} is stored"));
    let token = b.token("bob").await;
    let (status, body) = b.get(&format!("/api/v1/statuses/{}", row.id), &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Deliver the Create at `path` and read what was stored of its object.
async fn created(b: &Instance, peer: &Peer, actor: &Value, path: &str) -> Value {
    let create = peer.fixture(path);
    assert_eq!(
        peer.send(b, actor, &create).await,
        StatusCode::ACCEPTED,
        "{path}"
    );
    as_bob_reads_it(b, create["object"]["id"].as_str().expect("object id")).await
}

fn content(status: &Value) -> &str {
    status["content"].as_str().expect("content")
}

#[tokio::test]
async fn a_peertube_video_is_a_status_with_its_file_and_a_link_to_its_page() {
    let (b, peer, frank) = peer_of("https://peertube.example", "peertube/actor_account.json").await;
    peer.followed_by(&b, "bob", &frank).await;
    let video = created(&b, &peer, &frank, "peertube/create_video.json").await;
    let text = content(&video);
    assert!(
        text.starts_with("<p>The 7:42 to the coast</p><p>Filmed at dawn.</p>"),
        "{text}"
    );
    let page = format!(
        "{}/videos/watch/0d3b1a2c-4e5f-6789-abcd-ef0123456789",
        peer.base
    );
    assert!(text.contains(&format!("href=\"{page}\"")), "{text}");
    assert_eq!(video["url"], json!(page));
    assert_eq!(video["visibility"], "public");
    let media = video["media_attachments"].as_array().expect("media");
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(media[0]["type"], "video");
    assert_eq!(
        media[0]["url"],
        json!(format!("{}/static/web-videos/0d3b-720.mp4", peer.base)),
        "the tallest file"
    );
    assert_eq!(media[0]["description"], "The 7:42 to the coast");
    assert_eq!(video["tags"][0]["name"], "trains");
}

#[tokio::test]
async fn a_funkwhale_track_is_a_status_with_its_audio() {
    let (b, peer, kim) = peer_of("https://funkwhale.example", "funkwhale/actor_person.json").await;
    peer.followed_by(&b, "bob", &kim).await;
    let track = created(&b, &peer, &kim, "funkwhale/create_audio.json").await;
    assert!(
        content(&track).starts_with("<p>Rain on the roof</p>"),
        "{track}"
    );
    let media = track["media_attachments"].as_array().expect("media");
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(media[0]["type"], "audio");
    assert_eq!(
        track["url"],
        json!(format!("{}/library/tracks/321", peer.base))
    );
}

#[tokio::test]
async fn a_mobilizon_event_is_a_status_with_its_banner() {
    let (b, peer, lou) = peer_of("https://mobilizon.example", "mobilizon/actor_person.json").await;
    peer.followed_by(&b, "bob", &lou).await;
    let event = created(&b, &peer, &lou, "mobilizon/create_event.json").await;
    let text = content(&event);
    assert!(
        text.starts_with("<p>Autumn walk by the canal</p><p>Meet at the lock."),
        "{text}"
    );
    let media = event["media_attachments"].as_array().expect("media");
    assert_eq!(
        media.len(),
        1,
        "the banner; the web link is no file: {media:?}"
    );
    assert_eq!(media[0]["type"], "image");
}

#[tokio::test]
async fn notes_keep_their_good_tags_and_attachments_past_a_bad_one() {
    // Pixelfed: one attachment without a URL.
    let (b, peer, gina) = peer_of("https://pixelfed.example", "pixelfed/actor_person.json").await;
    peer.followed_by(&b, "bob", &gina).await;
    let photo = created(&b, &peer, &gina, "pixelfed/create_note_photo.json").await;
    let media = photo["media_attachments"].as_array().expect("media");
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(media[0]["description"], "Fog over a lake");
    assert_eq!(media[0]["meta"]["original"]["width"], 1080);

    // Friendica: a tag that is a string, a Mention without a URL; it
    // mentions bob, who need not follow anyone to get it.
    let friendica = Peer::serve("https://friendica.example", &b).await;
    let hanna = friendica.actor("friendica/actor_person.json");
    let note = created(&b, &friendica, &hanna, "friendica/create_note.json").await;
    let mentioned: Vec<&str> = note["mentions"]
        .as_array()
        .expect("mentions")
        .iter()
        .filter_map(|m| m["username"].as_str())
        .collect();
    assert_eq!(mentioned, ["bob"], "{note}");
    assert_eq!(note["media_attachments"].as_array().map(Vec::len), Some(1));
    assert_eq!(note["in_reply_to_id"], Value::Null);

    // Mitra: Emoji tags and identity proofs beside what we read.
    let mitra = Peer::serve("https://mitra.example", &b).await;
    let jo = mitra.actor("mitra/actor_person.json");
    let note = created(&b, &mitra, &jo, "mitra/create_note.json").await;
    assert_eq!(note["mentions"].as_array().map(Vec::len), Some(1), "{note}");
    assert_eq!(note["media_attachments"].as_array().map(Vec::len), Some(1));

    // WordPress: an Article with its title above the text.
    let wordpress = Peer::serve("https://blog.example", &b).await;
    let ivy = wordpress.actor("wordpress/actor_person.json");
    wordpress.followed_by(&b, "bob", &ivy).await;
    let article = created(&b, &wordpress, &ivy, "wordpress/create_article.json").await;
    assert!(
        content(&article).starts_with("<p>Green tea</p><p>Steep it at 70 degrees.</p>"),
        "{article}"
    );
    assert_eq!(
        article["media_attachments"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn a_lemmy_community_accepts_a_follow() {
    let (b, peer, birds) = peer_of("https://lemmy.example", "lemmy/actor_group.json").await;
    let token = b.token("bob").await;
    let id = account_id(&b, &token, birds["id"].as_str().expect("id")).await;
    let (status, body) = b
        .post(&format!("/api/v1/accounts/{id}/follow"), &token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    perch_federation_tests::drain(&[&b]).await;
    let accept = peer.fixture("lemmy/accept_follow.json");
    assert_eq!(peer.send(&b, &birds, &accept).await, StatusCode::ACCEPTED);
    let relationship = perch_federation_tests::relationship(&b, &token, &id).await;
    assert_eq!(relationship["following"], true, "{relationship}");
    let (_, account) = b.get(&format!("/api/v1/accounts/{id}"), &token).await;
    assert_eq!(
        account["header"],
        json!(format!("{}/pictrs/image/birds-banner.png", peer.base))
    );
    assert_eq!(account["group"], true, "{account}");
}

#[tokio::test]
async fn a_gotosocial_delete_without_an_id_deletes_only_the_actors_status() {
    let (b, peer, dan) = peer_of("https://gts.example", "gotosocial/actor_person.json").await;
    peer.serve_key_document(&dan);
    peer.followed_by(&b, "bob", &dan).await;
    let create = peer.fixture("gotosocial/create_note_unlisted.json");
    assert_eq!(peer.send(&b, &dan, &create).await, StatusCode::ACCEPTED);
    let uri = create["object"]["id"].as_str().expect("id").to_owned();
    let status = as_bob_reads_it(&b, &uri).await;
    assert_eq!(status["visibility"], "unlisted");

    // Another actor of that server sends the same Delete as its own:
    // accepted, and refused when applied (the status is dan's).
    let mut eve = dan.clone();
    let eve_id = format!("{}/users/eve", peer.base);
    eve["id"] = json!(eve_id);
    eve["preferredUsername"] = json!("eve");
    eve["inbox"] = json!(format!("{eve_id}/inbox"));
    eve["publicKey"]["id"] = json!(format!("{eve_id}/main-key"));
    eve["publicKey"]["owner"] = json!(eve_id);
    peer.put(&eve);
    peer.serve_key_document(&eve);
    let mut forged = peer.fixture("gotosocial/delete_without_id.json");
    forged["actor"] = json!(eve_id);
    assert_eq!(peer.send(&b, &eve, &forged).await, StatusCode::ACCEPTED);
    assert!(row(&b, &uri).await.is_some(), "not eve's to delete");

    let delete = peer.fixture("gotosocial/delete_without_id.json");
    assert_eq!(peer.send(&b, &dan, &delete).await, StatusCode::ACCEPTED);
    assert!(row(&b, &uri).await.is_none(), "deleted by its author");
    // Delivered again: the same derived id, dropped as a duplicate.
    assert_eq!(peer.send(&b, &dan, &delete).await, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_boost_of_ones_own_followers_only_post_is_a_followers_only_reblog() {
    let (b, peer, alice) = peer_of("https://mastodon.example", "mastodon/actor_person.json").await;
    b.create_user("dave", PASSWORD).await;
    peer.followed_by(&b, "bob", &alice).await;
    let create = peer.fixture("mastodon/create_note_followers.json");
    assert_eq!(peer.send(&b, &alice, &create).await, StatusCode::ACCEPTED);
    let original = row(&b, create["object"]["id"].as_str().expect("id"))
        .await
        .expect("stored: bob follows alice");
    assert_eq!(original.visibility, 2, "followers-only");

    let announce = peer.fixture("mastodon/announce_own_followers_only.json");
    assert_eq!(peer.send(&b, &alice, &announce).await, StatusCode::ACCEPTED);
    let reblog = row(&b, announce["id"].as_str().expect("id"))
        .await
        .expect("the reblog is stored");
    assert_eq!(reblog.reblog_of_id, Some(original.id));
    assert_eq!(reblog.visibility, 2, "followers-only, as the original");
    // Visible to alice's followers here, and to nobody else.
    let (bob, dave) = (b.token("bob").await, b.token("dave").await);
    let path = format!("/api/v1/statuses/{}", reblog.id);
    let (status, seen) = b.get(&path, &bob).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["visibility"], "private");
    assert_eq!(seen["reblog"]["id"], original.id.to_string());
    let (status, _) = b.get(&path, &dave).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Someone else's followers-only post is still not boosted.
    let mut other = peer.fixture("mastodon/announce_own_followers_only.json");
    let carol = format!("{}/users/carol", peer.base);
    let mut carol_actor = alice.clone();
    carol_actor["id"] = json!(carol);
    carol_actor["preferredUsername"] = json!("carol");
    carol_actor["inbox"] = json!(format!("{carol}/inbox"));
    carol_actor["publicKey"]["id"] = json!(format!("{carol}#main-key"));
    carol_actor["publicKey"]["owner"] = json!(carol);
    peer.put(&carol_actor);
    peer.followed_by(&b, "bob", &carol_actor).await;
    other["id"] = json!(format!("{carol}/statuses/1/activity"));
    other["actor"] = json!(carol);
    assert_eq!(
        peer.send(&b, &carol_actor, &other).await,
        StatusCode::ACCEPTED
    );
    assert!(row(&b, other["id"].as_str().expect("id")).await.is_none());
}

#[tokio::test]
async fn a_peertube_channel_announces_its_video_to_its_followers() {
    let (b, peer, channel) =
        peer_of("https://peertube.example", "peertube/actor_channel.json").await;
    // The video and its author's account are on the channel's server.
    peer.actor("peertube/actor_account.json");
    let video = peer.fixture("peertube/video.json");
    peer.put(&video);
    peer.followed_by(&b, "bob", &channel).await;
    let announce = peer.fixture("peertube/announce_video.json");
    assert_eq!(
        peer.send(&b, &channel, &announce).await,
        StatusCode::ACCEPTED
    );
    let original = row(&b, video["id"].as_str().expect("id"))
        .await
        .expect("the video was fetched and stored");
    let reblog = row(&b, announce["id"].as_str().expect("id"))
        .await
        .expect("the channel's announce is a reblog");
    assert_eq!(reblog.reblog_of_id, Some(original.id));
    let token = b.token("bob").await;
    let (_, home) = b.get("/api/v1/timelines/home", &token).await;
    assert_eq!(home[0]["reblog"]["id"], original.id.to_string(), "{home}");
    assert_eq!(
        home[0]["reblog"]["media_attachments"][0]["type"], "video",
        "{home}"
    );
}

#[tokio::test]
async fn a_peertube_channel_may_send_the_create_of_its_video_as_its_author() {
    let (b, peer, channel) =
        peer_of("https://peertube.example", "peertube/actor_channel.json").await;
    peer.actor("peertube/actor_account.json");
    // bob follows the channel only, not the account that uploaded it.
    peer.followed_by(&b, "bob", &channel).await;
    let mut create = peer.fixture("peertube/create_video.json");
    create["actor"] = channel["id"].clone();
    create["id"] = json!(format!("{}/create", channel["id"].as_str().expect("id")));
    assert_eq!(peer.send(&b, &channel, &create).await, StatusCode::ACCEPTED);
    let video = as_bob_reads_it(&b, create["object"]["id"].as_str().expect("id")).await;
    let token = b.token("bob").await;
    let channel_id = account_id(&b, &token, channel["id"].as_str().expect("id")).await;
    assert_eq!(video["account"]["id"], channel_id, "{video}");
    let (_, home) = b.get("/api/v1/timelines/home", &token).await;
    assert_eq!(home[0]["id"], video["id"], "{home}");

    // One that the video does not name is refused, and nothing is stored.
    let mut other = peer.fixture("peertube/create_video.json");
    other["actor"] = channel["id"].clone();
    other["id"] = json!(format!("{}/create-2", channel["id"].as_str().expect("id")));
    other["object"]["id"] = json!("https://peertube.example/videos/watch/other");
    other["object"]["attributedTo"] = json!(["https://peertube.example/accounts/frank"]);
    peer.send(&b, &channel, &other).await;
    assert!(
        row(&b, "https://peertube.example/videos/watch/other")
            .await
            .is_none()
    );
}
