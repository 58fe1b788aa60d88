//! What Perch sends, as Fedify receives, verifies and reads it: follows
//! and their answers, posts of each visibility, replies, likes, boosts and
//! their undoing, edits, deletes, profile edits, unfollows, blocks and an
//! account deletion; Perch's collections and NodeInfo as Fedify reads them;
//! and Fedify's refusal of what Perch did not sign.

use perch_apub::signatures::SigningKey;
use perch_federation_tests::{
    Instance, PASSWORD, deliver, drain, follow_across, png_dot, relationship, upload_dot,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use url::Url;

use super::{Fedify, about, peer_installed, resolve_status};

#[tokio::test]
async fn what_perch_sends_reaches_fedify() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_user("alice", PASSWORD).await;
    let alice = perch.token("alice").await;
    let alice_uri = perch.url("/users/alice");

    // Fedify reads Perch's NodeInfo strictly.
    let info = fedify
        .control("nodeinfo", json!({"url": perch.base_url}))
        .await;
    assert_eq!(info["conforms"], true, "{info}");
    assert_eq!(info["software"]["name"], "perch", "{info}");
    assert_eq!(info["protocols"], json!(["activitypub"]), "{info}");
    assert_eq!(info["users"]["total"], 1, "{info}");

    // Follow: Alice follows Bob, and Fedify's Accept makes it stand.
    let bob_id = follow_across(
        &perch,
        &alice,
        &format!("@bob@{}", fedify.domain),
        &[&perch],
    )
    .await;
    let follow = fedify
        .received("Alice's Follow", |e| {
            about(e, "Follow", &fedify.actor("bob"))
        })
        .await;
    assert_eq!(follow["actor"], alice_uri);
    fedify
        .read_until("followers?actor=bob", |f| *f == json!([alice_uri]))
        .await;
    // Perch knocked with RFC 9421 first, which Fedify 1.5 does not read
    // and refused, then with draft-cavage, which it verified.
    let requests = fedify.read("requests").await;
    let knocks: Vec<(&str, u64)> = requests
        .as_array()
        .expect("a list")
        .iter()
        .filter(|r| r["method"] == "POST")
        .map(|r| {
            (
                r["scheme"].as_str().unwrap_or("none"),
                r["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        knocks[..2],
        [("rfc9421", 401), ("cavage", 202)],
        "{requests:#}"
    );

    // Bob follows Alice back: Perch accepts, and Fedify sees the Accept.
    fedify
        .control("follow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    let following = fedify.read("following?actor=bob").await;
    assert_eq!(following[&alice_uri], "accepted", "{following}");
    assert_eq!(
        relationship(&perch, &alice, &bob_id).await["followed_by"],
        true
    );

    // A post reaches Bob, public, with its text.
    let media = upload_dot(&perch, &alice).await;
    let posted = perch
        .post_status(
            &alice,
            json!({"status": "Hello, Fedify", "media_ids": [media["id"]]}),
        )
        .await;
    let post_uri = posted["uri"].as_str().expect("uri").to_owned();
    let post_id = posted["id"].as_str().expect("id").to_owned();
    drain(&[&perch]).await;
    let create = fedify
        .received("Alice's post", |e| about(e, "Create", &post_uri))
        .await;
    assert!(
        create["object"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("Hello, Fedify")),
        "{create:#}"
    );
    assert_eq!(create["object"]["type"], "Note");
    let attachment = &create["object"]["attachments"][0];
    assert_eq!(attachment["type"], "Document", "{create:#}");
    assert_eq!(attachment["name"], "two by two", "{create:#}");
    assert_eq!(attachment["url"], media["url"], "{create:#}");
    assert_eq!(create["object"]["attributedTo"], alice_uri);
    assert_eq!(
        create["object"]["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(
        create["object"]["cc"],
        json!([perch.url("/users/alice/followers")])
    );

    // Bob posts; Alice answers it, likes it and boosts it.
    let bobs = fedify
        .control(
            "post",
            json!({"actor": "bob", "content": "<p>Hello, Perch</p>"}),
        )
        .await;
    let bobs_uri = bobs["id"].as_str().expect("id").to_owned();
    drain(&[&perch]).await;
    let bobs_here = resolve_status(&perch, &alice, &bobs_uri).await;
    let reply = perch
        .post_status(
            &alice,
            json!({"status": format!("@bob@{} welcome", fedify.domain), "in_reply_to_id": bobs_here}),
        )
        .await;
    let reply_uri = reply["uri"].as_str().expect("uri").to_owned();
    let (status, _) = perch
        .post(&format!("/api/v1/statuses/{bobs_here}/favourite"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = perch
        .post(&format!("/api/v1/statuses/{bobs_here}/reblog"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    let answer = fedify
        .received("Alice's reply", |e| about(e, "Create", &reply_uri))
        .await;
    assert_eq!(answer["object"]["inReplyTo"], bobs_uri, "{answer:#}");
    assert_eq!(
        answer["object"]["tags"],
        json!([{"type": "Mention", "href": fedify.actor("bob"), "name": format!("@bob@{}", fedify.domain)}]),
        "{answer:#}"
    );
    let like = fedify
        .received("Alice's like", |e| about(e, "Like", &bobs_uri))
        .await;
    assert_eq!(like["actor"], alice_uri);
    let boost = fedify
        .received("Alice's boost", |e| about(e, "Announce", &bobs_uri))
        .await;
    assert_eq!(boost["actor"], alice_uri);

    // Fedify reads Alice's outbox page by page, and her followers.
    let outbox = fedify
        .control(
            "collection",
            json!({"actor": "bob", "url": perch.url("/users/alice/outbox")}),
        )
        .await;
    let created: Vec<&Value> = outbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["type"] == "Create")
        .map(|i| &i["object"])
        .collect();
    assert!(
        created.contains(&&json!(post_uri)) && created.contains(&&json!(reply_uri)),
        "{outbox:#}"
    );
    let followers = fedify
        .control(
            "collection",
            json!({"actor": "bob", "url": perch.url("/users/alice/followers")}),
        )
        .await;
    assert_eq!(followers["totalItems"], 1, "{followers:#}");

    // Both taken back.
    for path in ["unfavourite", "unreblog"] {
        let (status, _) = perch
            .post(&format!("/api/v1/statuses/{bobs_here}/{path}"), &alice)
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    drain(&[&perch]).await;
    for kind in ["Like", "Announce"] {
        let undo = fedify
            .received(&format!("the Undo of Alice's {kind}"), |e| {
                e["type"] == "Undo"
                    && e["object"]["type"] == kind
                    && e["object"]["object"] == bobs_uri
            })
            .await;
        assert_eq!(undo["actor"], alice_uri);
    }

    // A followers-only post with a hashtag and a content warning, and a
    // direct one, addressed as Fedify reads them.
    let quiet = perch
        .post_status(
            &alice,
            json!({"status": "For followers #Perch", "visibility": "private", "spoiler_text": "quiet"}),
        )
        .await;
    let direct = perch
        .post_status(
            &alice,
            json!({"status": format!("@bob@{} only you", fedify.domain), "visibility": "direct"}),
        )
        .await;
    drain(&[&perch]).await;
    let quiet_uri = quiet["uri"].as_str().expect("uri");
    let quiet_there = fedify
        .received("Alice's followers-only post", |e| {
            about(e, "Create", quiet_uri)
        })
        .await;
    assert_eq!(
        quiet_there["object"]["to"],
        json!([perch.url("/users/alice/followers")]),
        "{quiet_there:#}"
    );
    assert_eq!(quiet_there["object"]["cc"], json!([]), "{quiet_there:#}");
    assert_eq!(quiet_there["object"]["summary"], "quiet");
    assert_eq!(
        quiet_there["object"]["tags"][0]["type"], "Hashtag",
        "{quiet_there:#}"
    );
    assert_eq!(
        quiet_there["object"]["tags"][0]["name"], "#perch",
        "{quiet_there:#}"
    );
    let direct_uri = direct["uri"].as_str().expect("uri");
    let direct_there = fedify
        .received("Alice's direct post", |e| about(e, "Create", direct_uri))
        .await;
    assert_eq!(
        direct_there["object"]["to"],
        json!([fedify.actor("bob")]),
        "{direct_there:#}"
    );
    assert_eq!(direct_there["object"]["cc"], json!([]), "{direct_there:#}");

    // An edit, then a delete.
    let (status, edited) = perch
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{post_id}"),
            &alice,
            Some(json!({"status": "Hello, Fedify (edited)"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    drain(&[&perch]).await;
    let update = fedify
        .received("Alice's edit", |e| about(e, "Update", &post_uri))
        .await;
    assert!(
        update["object"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("(edited)")),
        "{update:#}"
    );
    assert!(update["object"]["updated"].is_string(), "{update:#}");
    let (status, _) = perch
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{post_id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    let delete = fedify
        .received("Alice's delete", |e| about(e, "Delete", &post_uri))
        .await;
    assert_eq!(delete["actor"], alice_uri);

    // A profile edit reaches Fedify as an Update of Alice's actor.
    let form = reqwest::multipart::Form::new()
        .text("display_name", "Alice of Perch")
        .part(
            "avatar",
            reqwest::multipart::Part::bytes(png_dot()).file_name("me.png"),
        );
    let edited = perch
        .client
        .patch(perch.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(edited.status(), StatusCode::OK);
    let avatar = edited.json::<Value>().await.expect("JSON")["avatar"].clone();
    drain(&[&perch]).await;
    let renamed = fedify
        .received("Alice's profile edit", |e| about(e, "Update", &alice_uri))
        .await;
    assert_eq!(renamed["object"]["type"], "Person", "{renamed:#}");
    assert_eq!(renamed["object"]["name"], "Alice of Perch", "{renamed:#}");
    assert_eq!(renamed["object"]["icon"], avatar, "{renamed:#}");

    // Alice unfollows Bob: Fedify drops her from his followers.
    let (status, _) = perch
        .post(&format!("/api/v1/accounts/{bob_id}/unfollow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    fedify
        .read_until("followers?actor=bob", |f| *f == json!([]))
        .await;

    // Alice posts a poll: Fedify reads it as a Question with its options
    // and end; Bob votes, Perch counts his vote, and the Update of the
    // Question she sends carries the new count.
    let poll = perch
        .post_status(
            &alice,
            json!({
                "status": "Tea or coffee?",
                "visibility": "public",
                "poll": {"options": ["tea", "coffee"], "expires_in": 3600},
            }),
        )
        .await;
    let question_uri = poll["uri"].as_str().expect("uri").to_owned();
    drain(&[&perch]).await;
    let asked = fedify
        .received("Alice's poll", |e| about(e, "Create", &question_uri))
        .await;
    assert_eq!(asked["object"]["type"], "Question", "{asked:#}");
    assert_eq!(
        asked["object"]["options"],
        json!(["tea", "coffee"]),
        "{asked:#}"
    );
    assert_eq!(asked["object"]["multiple"], false, "{asked:#}");
    assert!(asked["object"]["endTime"].is_string(), "{asked:#}");
    fedify
        .control(
            "vote",
            json!({"actor": "bob", "question": question_uri, "choice": "coffee"}),
        )
        .await;
    drain(&[&perch]).await;
    let poll_id = poll["poll"]["id"].as_str().expect("a poll id");
    let (status, counted) = perch.get(&format!("/api/v1/polls/{poll_id}"), &alice).await;
    assert_eq!(status, StatusCode::OK, "{counted}");
    assert_eq!(counted["options"][0]["votes_count"], 0, "{counted}");
    assert_eq!(counted["options"][1]["votes_count"], 1, "{counted}");
    assert_eq!(counted["voters_count"], 1, "{counted}");
    let tallied = fedify
        .received("the poll's new count", |e| {
            about(e, "Update", &question_uri) && e["object"]["votes"]["coffee"] == 1
        })
        .await;
    assert_eq!(tallied["object"]["voters"], 1, "{tallied:#}");

    // Fedify verifies strictly: an unsigned activity, and one signed for
    // Alice by a key that is not hers, are refused and not applied.
    let inbox = Url::parse(&format!("{}/inbox", fedify.actor("bob"))).expect("url");
    let note_id = format!("{alice_uri}/statuses/1");
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note_id}/activity"),
        "type": "Create",
        "actor": alice_uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": note_id, "type": "Note", "attributedTo": alice_uri,
            "content": "not by Alice",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    });
    let body = serde_json::to_vec(&forged).expect("json");
    let unsigned = fedify
        .client
        .post(inbox.clone())
        .header("Content-Type", "application/activity+json")
        .body(body.clone())
        .send()
        .await
        .expect("the peer answers");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let (_, other_private) = perch_core::keys::generate_actor_keys().expect("keys");
    let other_key =
        SigningKey::from_pem(format!("{alice_uri}#main-key"), &other_private).expect("key");
    assert_eq!(
        deliver(&fedify.client, &other_key, &inbox, &body).await,
        StatusCode::UNAUTHORIZED
    );
    let inbox_now = fedify.read("inbox").await;
    assert!(
        !inbox_now
            .as_array()
            .expect("a list")
            .iter()
            .any(|e| about(e, "Create", &note_id)),
        "{inbox_now:#}"
    );
}

#[tokio::test]
async fn a_block_and_an_account_deletion_on_perch_reach_fedify() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_user("alice", PASSWORD).await;
    let alice = perch.token("alice").await;
    let alice_uri = perch.url("/users/alice");
    let bob_id = follow_across(
        &perch,
        &alice,
        &format!("@bob@{}", fedify.domain),
        &[&perch],
    )
    .await;
    fedify
        .control("follow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    fedify
        .read_until("following?actor=bob", |f| f[&alice_uri] == "accepted")
        .await;

    // Alice blocks Bob: Fedify hears the Block, her Undo of her follow and
    // her Reject of his.
    let (status, _) = perch
        .post(&format!("/api/v1/accounts/{bob_id}/block"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    let block = fedify
        .received("Alice's Block", |e| about(e, "Block", &fedify.actor("bob")))
        .await;
    assert_eq!(block["actor"], alice_uri);
    fedify
        .read_until("followers?actor=bob", |f| *f == json!([]))
        .await;
    fedify
        .read_until("following?actor=bob", |f| f[&alice_uri] == "rejected")
        .await;

    // Alice deletes her account: Fedify verifies the Delete of her actor
    // (with the key it already has: her actor is gone).
    let (status, body) = perch
        .send(
            Method::POST,
            "/api/v1/accounts/delete",
            &alice,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    drain(&[&perch]).await;
    let deleted = fedify
        .received("Alice's deletion", |e| about(e, "Delete", &alice_uri))
        .await;
    assert_eq!(deleted["actor"], alice_uri);
    assert!(
        deleted["object"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("410")),
        "her actor answers 410 Gone: {deleted:#}"
    );
}

#[tokio::test]
async fn follow_requests_to_a_locked_fedify_actor_wait_for_its_answer() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_user("alice", PASSWORD).await;
    perch.create_user("eve", PASSWORD).await;
    let (alice, eve) = (perch.token("alice").await, perch.token("eve").await);
    let carol = format!("@carol@{}", fedify.domain);

    // Carol's actor asks for approval: both requests wait.
    let mut asked = Vec::new();
    for token in [&alice, &eve] {
        let id = perch.resolve(token, &carol).await;
        let (status, relation) = perch
            .post(&format!("/api/v1/accounts/{id}/follow"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{relation}");
        assert_eq!(relation["requested"], true, "{relation}");
        asked.push(id);
    }
    drain(&[&perch]).await;
    let (_, account) = perch
        .get(&format!("/api/v1/accounts/{}", asked[0]), &alice)
        .await;
    assert_eq!(account["locked"], true, "{account}");
    let (alice_uri, eve_uri) = (perch.url("/users/alice"), perch.url("/users/eve"));
    let pending = fedify.read("pending?actor=carol").await;
    assert_eq!(pending, json!([alice_uri, eve_uri]), "{pending}");
    for (token, id) in [(&alice, &asked[0]), (&eve, &asked[1])] {
        let relation = relationship(&perch, token, id).await;
        assert_eq!(relation["following"], false, "{relation}");
        assert_eq!(relation["requested"], true, "{relation}");
    }

    // She accepts Alice and rejects Eve.
    fedify
        .control(
            "answer",
            json!({"actor": "carol", "follower": alice_uri, "accept": true}),
        )
        .await;
    fedify
        .control(
            "answer",
            json!({"actor": "carol", "follower": eve_uri, "accept": false}),
        )
        .await;
    drain(&[&perch]).await;
    let relation = relationship(&perch, &alice, &asked[0]).await;
    assert_eq!(relation["following"], true, "{relation}");
    assert_eq!(relation["requested"], false, "{relation}");
    let relation = relationship(&perch, &eve, &asked[1]).await;
    assert_eq!(relation["following"], false, "{relation}");
    assert_eq!(relation["requested"], false, "{relation}");
    assert_eq!(
        fedify.read("followers?actor=carol").await,
        json!([alice_uri])
    );
}
