//! Statuses across two instances: a post reaches a remote follower's home;
//! likes, reblogs, edits, deletes and their undos show on the other side
//! with the right counts; reply threads assemble on both sides; a followed
//! hashtag brings remote public posts home.

use perch_federation_tests::{Instance, PASSWORD, drain, png_dot, upload_dot};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// `follower` on `from` follows `target` on `to`, accepted.
async fn follow(from: &Instance, token: &str, to: &Instance, target: &str) -> String {
    let id = from
        .resolve(token, &format!("@{target}@{}", to.domain))
        .await;
    let (status, body) = from
        .post(&format!("/api/v1/accounts/{id}/follow"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drain(&[from, to]).await;
    id
}

/// Give the holder of `token` a 2×2 PNG avatar.
async fn set_avatar(instance: &Instance, token: &str) {
    let form = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(png_dot()).file_name("me.png"),
    );
    let response = instance
        .client
        .patch(instance.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
}

async fn status_on(instance: &Instance, token: &str, id: &str) -> Value {
    let (status, body) = instance.get(&format!("/api/v1/statuses/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().expect("id"))
        .collect()
}

async fn home(instance: &Instance, token: &str) -> Value {
    let (status, body) = instance.get("/api/v1/timelines/home", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_post_and_what_happens_to_it_reach_the_other_side() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let (alice, bob) = (a.token("alice").await, b.token("bob").await);
    follow(&b, &bob, &a, "alice").await;

    // A post reaches the remote follower's home timeline.
    let posted = a
        .post_status(&alice, json!({"status": "Hello from A", "language": "en"}))
        .await;
    let local_id = posted["id"].as_str().expect("id").to_owned();
    drain(&[&a, &b]).await;
    let feed = home(&b, &bob).await;
    assert_eq!(feed.as_array().map(Vec::len), Some(1), "{feed}");
    let remote = &feed[0];
    assert_eq!(remote["uri"], posted["uri"]);
    assert!(remote["content"].as_str().unwrap().contains("Hello from A"));
    assert_eq!(remote["account"]["acct"], format!("alice@{}", a.domain));
    assert_eq!(remote["language"], "en");
    let remote_id = remote["id"].as_str().expect("id").to_owned();

    // Like and unlike.
    let (status, liked) = b
        .post(&format!("/api/v1/statuses/{remote_id}/favourite"), &bob)
        .await;
    assert_eq!(status, StatusCode::OK, "{liked}");
    drain(&[&a, &b]).await;
    assert_eq!(
        status_on(&a, &alice, &local_id).await["favourites_count"],
        1
    );
    let (_, notes) = a.get("/api/v1/notifications", &alice).await;
    assert_eq!(notes[0]["type"], "favourite", "{notes}");
    assert_eq!(notes[0]["account"]["acct"], format!("bob@{}", b.domain));
    b.post(&format!("/api/v1/statuses/{remote_id}/unfavourite"), &bob)
        .await;
    drain(&[&a, &b]).await;
    assert_eq!(
        status_on(&a, &alice, &local_id).await["favourites_count"],
        0
    );
    let (_, notes) = a
        .get("/api/v1/notifications?types[]=favourite", &alice)
        .await;
    assert_eq!(notes, json!([]));

    // Reblog and unreblog.
    let (status, reblog) = b
        .post(&format!("/api/v1/statuses/{remote_id}/reblog"), &bob)
        .await;
    assert_eq!(status, StatusCode::OK, "{reblog}");
    drain(&[&a, &b]).await;
    assert_eq!(status_on(&a, &alice, &local_id).await["reblogs_count"], 1);
    let (_, by) = a
        .get(&format!("/api/v1/statuses/{local_id}/reblogged_by"), &alice)
        .await;
    assert_eq!(by[0]["acct"], format!("bob@{}", b.domain));
    b.post(&format!("/api/v1/statuses/{remote_id}/unreblog"), &bob)
        .await;
    drain(&[&a, &b]).await;
    assert_eq!(status_on(&a, &alice, &local_id).await["reblogs_count"], 0);

    // An edit shows on the other side, with its history.
    let (status, edited) = a
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{local_id}"),
            &alice,
            Some(json!({"status": "Hello from A, edited"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    drain(&[&a, &b]).await;
    let there = status_on(&b, &bob, &remote_id).await;
    assert!(
        there["content"].as_str().unwrap().contains("edited"),
        "{there}"
    );
    assert!(there["edited_at"].is_string());
    let (_, history) = b
        .get(&format!("/api/v1/statuses/{remote_id}/history"), &bob)
        .await;
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");

    // A delete removes it there.
    let (status, _) = a
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{local_id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&a, &b]).await;
    let (status, _) = b.get(&format!("/api/v1/statuses/{remote_id}"), &bob).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(home(&b, &bob).await, json!([]));
}

#[tokio::test]
async fn a_remote_reblog_reaches_the_reblogger_s_followers() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    b.create_user("carol", PASSWORD).await;
    let (alice, bob, carol) = (
        a.token("alice").await,
        b.token("bob").await,
        b.token("carol").await,
    );
    // Alice follows Carol (on B); Bob (on B) reblogs Carol's post: nothing
    // reaches A through Bob, whom nobody on A follows. Alice then follows
    // Bob, and Bob's next reblog shows in her home.
    follow(&a, &alice, &b, "carol").await;
    let first = b.post_status(&carol, json!({"status": "first"})).await;
    drain(&[&a, &b]).await;
    follow(&a, &alice, &b, "bob").await;
    let second = b.post_status(&carol, json!({"status": "second"})).await;
    let second_id = second["id"].as_str().unwrap();
    drain(&[&a, &b]).await;
    let (status, _) = b
        .post(&format!("/api/v1/statuses/{second_id}/reblog"), &bob)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&a, &b]).await;
    let feed = home(&a, &alice).await;
    let first_uri = first["uri"].as_str().unwrap();
    let kinds: Vec<(bool, &str)> = feed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let shown = if s["reblog"].is_null() {
                s
            } else {
                &s["reblog"]
            };
            (!s["reblog"].is_null(), shown["uri"].as_str().unwrap())
        })
        .collect();
    let second_uri = second["uri"].as_str().unwrap();
    assert_eq!(
        kinds,
        [(true, second_uri), (false, second_uri), (false, first_uri)],
        "{feed}"
    );
}

#[tokio::test]
async fn reply_threads_assemble_on_both_sides() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let (alice, bob) = (a.token("alice").await, b.token("bob").await);
    follow(&b, &bob, &a, "alice").await;

    let root = a.post_status(&alice, json!({"status": "root"})).await;
    let root_on_a = root["id"].as_str().unwrap().to_owned();
    drain(&[&a, &b]).await;
    let root_on_b = home(&b, &bob).await[0]["id"].as_str().unwrap().to_owned();

    // Bob answers on B; Alice (not following Bob) gets it because it answers
    // her post.
    let reply = b
        .post_status(
            &bob,
            json!({"status": "reply", "in_reply_to_id": root_on_b}),
        )
        .await;
    let reply_on_b = reply["id"].as_str().unwrap().to_owned();
    drain(&[&a, &b]).await;
    let (_, context_a) = a
        .get(&format!("/api/v1/statuses/{root_on_a}/context"), &alice)
        .await;
    let descendants = context_a["descendants"].as_array().expect("descendants");
    assert_eq!(descendants.len(), 1, "{context_a}");
    assert_eq!(descendants[0]["uri"], reply["uri"]);
    assert_eq!(status_on(&a, &alice, &root_on_a).await["replies_count"], 1);
    let reply_on_a = descendants[0]["id"].as_str().unwrap().to_owned();

    // Alice answers Bob's reply; it travels to Bob (her follower, and the
    // author she answers).
    let answer = a
        .post_status(
            &alice,
            json!({"status": "answer", "in_reply_to_id": reply_on_a}),
        )
        .await;
    drain(&[&a, &b]).await;
    let (_, context_b) = b
        .get(&format!("/api/v1/statuses/{reply_on_b}/context"), &bob)
        .await;
    assert_eq!(
        ids(&context_b["ancestors"]),
        vec![root_on_b.as_str()],
        "{context_b}"
    );
    let below: Vec<&str> = context_b["descendants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert_eq!(below, vec![answer["uri"].as_str().unwrap()], "{context_b}");
    let (_, thread_a) = a
        .get(&format!("/api/v1/statuses/{root_on_a}/context"), &alice)
        .await;
    assert_eq!(
        thread_a["descendants"].as_array().map(Vec::len),
        Some(2),
        "{thread_a}"
    );
}

#[tokio::test]
async fn following_brings_in_recent_public_posts() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let (alice, bob) = (a.token("alice").await, b.token("bob").await);
    let mut public = Vec::new();
    for n in 0..3 {
        let posted = a
            .post_status(&alice, json!({"status": format!("earlier {n}")}))
            .await;
        public.push(posted["uri"].as_str().unwrap().to_owned());
    }
    a.post_status(
        &alice,
        json!({"status": "only followers", "visibility": "private"}),
    )
    .await;
    a.post_status(&alice, json!({"status": "quiet", "visibility": "unlisted"}))
        .await;
    drain(&[&a, &b]).await;

    let alice_on_b = follow(&b, &bob, &a, "alice").await;
    let feed = home(&b, &bob).await;
    let uris: Vec<&str> = feed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    public.reverse();
    assert_eq!(uris, public, "{feed}");
    let (_, profile) = b
        .get(&format!("/api/v1/accounts/{alice_on_b}/statuses"), &bob)
        .await;
    assert_eq!(profile.as_array().map(Vec::len), Some(3), "{profile}");
}

#[tokio::test]
async fn a_direct_post_reaches_only_the_mentioned_account() {
    let (a, b, c) = (
        Instance::start().await,
        Instance::start().await,
        Instance::start().await,
    );
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    b.create_user("carol", PASSWORD).await;
    c.create_user("dave", PASSWORD).await;
    let alice = a.token("alice").await;
    let (bob, carol, dave) = (
        b.token("bob").await,
        b.token("carol").await,
        c.token("dave").await,
    );
    // Everyone follows Alice: followers do not make a direct post theirs.
    follow(&b, &bob, &a, "alice").await;
    follow(&b, &carol, &a, "alice").await;
    follow(&c, &dave, &a, "alice").await;

    let posted = a
        .post_status(
            &alice,
            json!({"status": format!("psst @bob@{}", b.domain), "visibility": "direct"}),
        )
        .await;
    assert_eq!(posted["mentions"][0]["acct"], format!("bob@{}", b.domain));
    drain(&[&a, &b, &c]).await;

    let feed = home(&b, &bob).await;
    assert_eq!(feed.as_array().map(Vec::len), Some(1), "{feed}");
    assert_eq!(feed[0]["uri"], posted["uri"]);
    assert_eq!(feed[0]["visibility"], "direct");
    let on_b = feed[0]["id"].as_str().unwrap();
    let (status, _) = b.get(&format!("/api/v1/statuses/{on_b}"), &carol).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "Carol, a follower, cannot read it"
    );
    assert_eq!(home(&b, &carol).await, json!([]));
    assert_eq!(home(&c, &dave).await, json!([]), "nothing was sent to C");
    let stored = perch_db::statuses::find_by_uri(&c.db, posted["uri"].as_str().unwrap())
        .await
        .expect("query");
    assert!(stored.is_none());
}

#[tokio::test]
async fn attachments_travel_as_documents_and_are_referenced_by_url() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    a.create_user("carol", PASSWORD).await;
    let (alice, bob) = (a.token("alice").await, b.token("bob").await);
    for user in ["alice", "carol"] {
        set_avatar(&a, &a.token(user).await).await;
    }
    let alice_on_b = follow(&b, &bob, &a, "alice").await;
    let (_, alice_seen) = b.get(&format!("/api/v1/accounts/{alice_on_b}"), &bob).await;
    assert!(
        !alice_seen["avatar"]
            .as_str()
            .unwrap()
            .ends_with("/missing.png"),
        "{alice_seen}"
    );

    let media = upload_dot(&a, &alice).await;
    let media_id = media["id"].as_str().expect("uploaded").to_owned();
    a.post_status(
        &alice,
        json!({"status": "a picture", "media_ids": [media_id]}),
    )
    .await;
    drain(&[&a, &b]).await;

    let feed = home(&b, &bob).await;
    let attachment = &feed[0]["media_attachments"][0];
    assert_eq!(attachment["type"], "image", "{feed}");
    assert_eq!(attachment["remote_url"], media["url"], "referenced by URL");
    assert_eq!(attachment["description"], "two by two");
    assert_eq!(attachment["meta"]["original"]["width"], 2);

    // B's admin rejects A's media: the next picture arrives as text only.
    b.create_with_role("ada", PASSWORD, perch_server::testing::Role::Admin)
        .await;
    let ada = b
        .token_with_scopes("ada", "read write admin:read admin:write")
        .await;
    let blocked = b
        .client
        .post(b.url("/api/v1/admin/domain_blocks"))
        .bearer_auth(&ada)
        .json(&json!({"domain": a.domain, "severity": "noop", "reject_media": true}))
        .send()
        .await
        .expect("sent");
    assert_eq!(blocked.status(), StatusCode::OK);
    // What was stored of A's media is gone too: avatars, and attachments
    // of statuses already here; and an account of A met later comes
    // without its avatar.
    let (_, alice_seen) = b.get(&format!("/api/v1/accounts/{alice_on_b}"), &bob).await;
    assert!(
        alice_seen["avatar"]
            .as_str()
            .unwrap()
            .ends_with("/avatars/original/missing.png"),
        "{alice_seen}"
    );
    assert_eq!(home(&b, &bob).await[0]["media_attachments"], json!([]));
    let carol_on_b = b.resolve(&bob, &format!("@carol@{}", a.domain)).await;
    let (_, carol_seen) = b.get(&format!("/api/v1/accounts/{carol_on_b}"), &bob).await;
    assert!(
        carol_seen["avatar"]
            .as_str()
            .unwrap()
            .ends_with("/avatars/original/missing.png"),
        "{carol_seen}"
    );
    let second = upload_dot(&a, &alice).await;
    a.post_status(
        &alice,
        json!({"status": "another picture", "media_ids": [second["id"]]}),
    )
    .await;
    drain(&[&a, &b]).await;
    let feed = home(&b, &bob).await;
    assert!(
        feed[0]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("another picture"),
        "{feed}"
    );
    assert_eq!(feed[0]["media_attachments"], json!([]), "{feed}");
}

/// A post using a custom emoji of its server shows it on the other side:
/// the `Emoji` tag's picture is remembered under the shortcode and that
/// server, and the status lists it in `emojis`.
#[tokio::test]
async fn custom_emoji_travel_with_the_posts_that_use_them() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let picture = a.url("/media/emoji/blobcat-x.png");
    perch_domain::emojis::add_local(&a.apub.domain, "blobcat", &picture, None)
        .await
        .expect("added");
    let bob = b.token("bob").await;
    let alice_on_b = b.resolve(&bob, &format!("alice@{}", a.domain)).await;
    let (status, _) = b
        .post(&format!("/api/v1/accounts/{alice_on_b}/follow"), &bob)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&a, &b]).await;

    let alice = a.token("alice").await;
    a.post_status(
        &alice,
        json!({"status": "purring :blobcat:", "visibility": "public"}),
    )
    .await;
    drain(&[&a, &b]).await;
    let (_, home) = b.get("/api/v1/timelines/home", &bob).await;
    let seen = &home[0];
    assert_eq!(seen["emojis"].as_array().map(Vec::len), Some(1), "{seen}");
    assert_eq!(seen["emojis"][0]["shortcode"], "blobcat");
    assert_eq!(seen["emojis"][0]["url"], picture.as_str());
    // Not one of B's own.
    let (_, own) = b.get("/api/v1/custom_emojis", &bob).await;
    assert_eq!(own, json!([]));
}

#[tokio::test]
async fn a_remote_public_post_with_a_followed_hashtag_reaches_home() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    b.create_user("carol", PASSWORD).await;
    let (alice, bob, carol) = (
        a.token("alice").await,
        b.token("bob").await,
        b.token("carol").await,
    );
    // Carol follows alice, so alice's posts reach B; bob follows only the
    // hashtag.
    follow(&b, &carol, &a, "alice").await;
    let (status, tag) = b.post("/api/v1/tags/fediverse/follow", &bob).await;
    assert_eq!(status, StatusCode::OK, "{tag}");

    let tagged = a
        .post_status(&alice, json!({"status": "hello #Fediverse"}))
        .await;
    a.post_status(&alice, json!({"status": "no tag here"}))
        .await;
    a.post_status(
        &alice,
        json!({"status": "quiet #fediverse", "visibility": "unlisted"}),
    )
    .await;
    drain(&[&a, &b]).await;
    let feed = home(&b, &bob).await;
    let uris: Vec<&str> = feed
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["uri"].as_str().expect("uri"))
        .collect();
    assert_eq!(uris, [tagged["uri"].as_str().expect("uri")], "{feed}");
    assert_eq!(feed[0]["account"]["acct"], format!("alice@{}", a.domain));
    let carol_feed = home(&b, &carol).await;
    assert_eq!(
        carol_feed.as_array().map(Vec::len),
        Some(3),
        "carol follows alice: {carol_feed}"
    );
}
