//! What Fedify sends, as Perch stores and shows it: follows (to a locked
//! account too), posts with their hashtags, emoji, attachments, content
//! warnings and visibility, the outbox read on follow, replies, likes,
//! reactions, boosts, quotes, edits, deletes, a question and its votes,
//! profile edits, unfollows and an account deletion; and Perch's refusal
//! of what is unsigned, wrongly keyed or altered.

use perch_federation_tests::{Instance, PASSWORD, drain, follow_across, relationship};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use super::{Fedify, home_uris, peer_installed, resolve_status, status_on};

#[tokio::test]
async fn what_fedify_sends_reaches_perch() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_user("alice", PASSWORD).await;
    let alice = perch.token("alice").await;
    let alice_uri = perch.url("/users/alice");

    // Follow: Bob follows Alice (Fedify's signed Follow), Perch's Accept
    // reaches Fedify.
    fedify
        .control("follow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    let following = fedify.read("following?actor=bob").await;
    assert_eq!(following[&alice_uri], "accepted", "{following}");
    let (_, followers) = perch
        .get("/api/v1/accounts/lookup?acct=alice", &alice)
        .await;
    let alice_id = followers["id"].as_str().expect("id").to_owned();
    let (_, list) = perch
        .get(&format!("/api/v1/accounts/{alice_id}/followers"), &alice)
        .await;
    assert_eq!(list[0]["acct"], format!("bob@{}", fedify.domain), "{list}");
    // Alice follows Bob, to see his posts: his earlier post is read from
    // his outbox at once.
    let earlier = fedify
        .control(
            "post",
            json!({"actor": "bob", "content": "<p>Before you came</p>"}),
        )
        .await;
    let bob_id = follow_across(
        &perch,
        &alice,
        &format!("@bob@{}", fedify.domain),
        &[&perch],
    )
    .await;
    assert_eq!(home_uris(&perch, &alice).await, [earlier["id"].clone()]);

    // Posts reach Alice's home, with their hashtags, content warnings and
    // visibility.
    let posted = fedify
        .control(
            "post",
            json!({
                "actor": "bob",
                "content": "<p>Hello from Fedify :fedify: <a href=\"#\" class=\"hashtag\">#Perch</a></p>",
                "hashtags": ["Perch"],
                "emojis": ["fedify"],
                "attachments": [{"name": "a dot"}],
                "summary": "a greeting",
            }),
        )
        .await;
    let post_uri = posted["id"].as_str().expect("id").to_owned();
    let quiet = fedify
        .control(
            "post",
            json!({"actor": "bob", "content": "<p>Only for followers</p>", "to": "followers"}),
        )
        .await;
    let direct = fedify
        .control(
            "post",
            json!({
                "actor": "bob",
                "content": "<p>Just for you, Alice</p>",
                "to": "direct",
                "mentions": [alice_uri],
            }),
        )
        .await;
    drain(&[&perch]).await;
    let (_, home) = perch.get("/api/v1/timelines/home", &alice).await;
    let shown = |uri: &Value| {
        home.as_array()
            .expect("a list")
            .iter()
            .find(|s| s["uri"] == *uri)
            .unwrap_or_else(|| panic!("{uri} is not in Alice's home: {home:#}"))
            .clone()
    };
    let post = shown(&posted["id"]);
    assert!(
        post["content"]
            .as_str()
            .unwrap()
            .contains("Hello from Fedify"),
        "{post}"
    );
    assert_eq!(post["account"]["id"], bob_id);
    assert_eq!(post["visibility"], "public");
    assert_eq!(post["spoiler_text"], "a greeting");
    assert_eq!(post["sensitive"], true);
    assert_eq!(post["tags"][0]["name"], "perch", "{post}");
    let dot = format!("{}/media/dot.png", fedify.base);
    assert_eq!(post["emojis"][0]["shortcode"], "fedify", "{post}");
    assert_eq!(post["emojis"][0]["url"], dot, "{post}");
    let attachment = &post["media_attachments"][0];
    assert_eq!(attachment["type"], "image", "{post}");
    assert_eq!(attachment["description"], "a dot", "{post}");
    assert_eq!(attachment["remote_url"], dot, "{post}");
    assert_eq!(post["account"]["avatar"], dot, "{post}");
    assert_eq!(shown(&quiet["id"])["visibility"], "private");
    let direct_here = shown(&direct["id"]);
    assert_eq!(direct_here["visibility"], "direct");
    assert_eq!(direct_here["mentions"][0]["acct"], "alice");
    let post_here = post["id"].as_str().expect("id").to_owned();

    // Bob answers, likes and boosts a post of Alice's.
    let hers = perch
        .post_status(&alice, json!({"status": "Hello, Bob"}))
        .await;
    let hers_id = hers["id"].as_str().expect("id").to_owned();
    let hers_uri = hers["uri"].as_str().expect("uri").to_owned();
    drain(&[&perch]).await;
    let reply = fedify
        .control(
            "reply",
            json!({"actor": "bob", "inReplyTo": hers_uri, "content": "<p>Hello, Alice</p>"}),
        )
        .await;
    let like = fedify
        .control("like", json!({"actor": "bob", "object": hers_uri}))
        .await;
    let boost = fedify
        .control("announce", json!({"actor": "bob", "object": hers_uri}))
        .await;
    drain(&[&perch]).await;
    let (_, context) = perch
        .get(&format!("/api/v1/statuses/{hers_id}/context"), &alice)
        .await;
    assert_eq!(context["descendants"][0]["uri"], reply["id"], "{context:#}");
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["replies_count"], 1, "{counted}");
    assert_eq!(counted["favourites_count"], 1, "{counted}");
    assert_eq!(counted["reblogs_count"], 1, "{counted}");
    // Fedify addresses its public boost to `as:Public`, the compact form.
    let (_, boosts) = perch
        .get(&format!("/api/v1/accounts/{bob_id}/statuses"), &alice)
        .await;
    let reblog = boosts
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["reblog"]["id"] == hers_id.as_str())
        .unwrap_or_else(|| panic!("no reblog of Alice's post: {boosts:#}"));
    assert_eq!(reblog["visibility"], "public", "{reblog:#}");
    let (_, notes) = perch.get("/api/v1/notifications", &alice).await;
    let mut kinds: Vec<&str> = notes
        .as_array()
        .expect("a list")
        .iter()
        .filter(|n| n["account"]["id"] == bob_id)
        .map(|n| n["type"].as_str().unwrap_or_default())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["favourite", "follow", "mention", "mention", "reblog"],
        "the direct post, the reply, the like, the follow and the boost: {notes:#}"
    );

    // An unlisted post quoting Alice's links it, and goes when deleted by
    // its id alone.
    let quoting = fedify
        .control(
            "post",
            json!({"actor": "bob", "content": "<p>Look at this</p>", "to": "unlisted", "quote": hers_uri}),
        )
        .await;
    drain(&[&perch]).await;
    let quoting_here = resolve_status(&perch, &alice, quoting["id"].as_str().expect("id")).await;
    let (_, quote) = status_on(&perch, &alice, &quoting_here).await;
    assert_eq!(quote["visibility"], "unlisted", "{quote}");
    let text = quote["content"].as_str().expect("content");
    assert!(text.contains("RE:") && text.contains(&hers_uri), "{quote}");
    fedify
        .control(
            "delete",
            json!({"actor": "bob", "id": quoting["id"], "byId": true}),
        )
        .await;
    drain(&[&perch]).await;
    let (status, _) = status_on(&perch, &alice, &quoting_here).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The like and the boost taken back.
    fedify
        .control("undo", json!({"actor": "bob", "activity": like["id"]}))
        .await;
    fedify
        .control("undo", json!({"actor": "bob", "activity": boost["id"]}))
        .await;
    drain(&[&perch]).await;
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["favourites_count"], 0, "{counted}");
    assert_eq!(counted["reblogs_count"], 0, "{counted}");

    // An emoji reaction counts as a like until it is taken back.
    let reaction = fedify
        .control(
            "react",
            json!({"actor": "bob", "object": hers_uri, "emoji": "🐦"}),
        )
        .await;
    drain(&[&perch]).await;
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["favourites_count"], 1, "{counted}");
    fedify
        .control("undo", json!({"actor": "bob", "activity": reaction["id"]}))
        .await;
    drain(&[&perch]).await;
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["favourites_count"], 0, "{counted}");

    // An edit, then a delete.
    fedify
        .control(
            "update",
            json!({"actor": "bob", "id": post_uri, "content": "<p>Hello from Fedify, edited</p>"}),
        )
        .await;
    drain(&[&perch]).await;
    let (status, edited) = status_on(&perch, &alice, &post_here).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert!(
        edited["content"].as_str().unwrap().contains("edited"),
        "{edited}"
    );
    assert!(edited["edited_at"].is_string(), "{edited}");
    fedify
        .control("delete", json!({"actor": "bob", "id": post_uri}))
        .await;
    drain(&[&perch]).await;
    let (status, _) = status_on(&perch, &alice, &post_here).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A poll: Bob's Question is stored as his status. Carol, on the same
    // peer, votes in it, which the peer counts.
    let question = fedify
        .control(
            "question",
            json!({"actor": "bob", "content": "<p>Tea or coffee?</p>", "options": ["tea", "coffee"]}),
        )
        .await;
    let question_uri = question["id"].as_str().expect("id").to_owned();
    drain(&[&perch]).await;
    let (_, home) = perch.get("/api/v1/timelines/home", &alice).await;
    assert!(
        home.as_array()
            .expect("a list")
            .iter()
            .any(|s| s["uri"] == question_uri
                && s["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Tea or coffee?")),
        "{home:#}"
    );
    fedify
        .control(
            "vote",
            json!({"actor": "carol", "question": question_uri, "choice": "tea"}),
        )
        .await;
    let votes = fedify
        .read_until(&format!("votes?id={question_uri}"), |v| {
            v["tea"].as_array().is_some_and(|t| !t.is_empty())
        })
        .await;
    assert_eq!(votes["tea"], json!([fedify.actor("carol")]), "{votes}");
    assert_eq!(votes["coffee"], json!([]), "{votes}");
    // Bob renames himself: Perch fetches his actor again.
    fedify
        .control(
            "profile",
            json!({"actor": "bob", "name": "Robert of Fedify"}),
        )
        .await;
    drain(&[&perch]).await;
    let (_, bob) = perch
        .get(&format!("/api/v1/accounts/{bob_id}"), &alice)
        .await;
    assert_eq!(bob["display_name"], "Robert of Fedify", "{bob}");

    // The peer tells its followers the count: an Update of the Question.
    let tally = fedify
        .control("tally", json!({"actor": "bob", "id": question_uri}))
        .await;
    assert_eq!(tally["voters"], 1, "{tally}");
    drain(&[&perch]).await;
    // Its text is unchanged: the question is not shown as edited.
    let question_here = resolve_status(&perch, &alice, &question_uri).await;
    let (_, shown) = status_on(&perch, &alice, &question_here).await;
    assert_eq!(shown["edited_at"], Value::Null, "{shown:#}");

    // The status shows Bob's poll with Carol's vote; Alice votes, and her
    // vote (a Note named after her choice, answering the question) reaches
    // Bob, who counts it.
    let poll = &shown["poll"];
    let titles: Vec<&str> = poll["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["title"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(titles, ["tea", "coffee"], "{shown:#}");
    assert_eq!(poll["multiple"], false, "{shown:#}");
    assert!(poll["expires_at"].is_string(), "{shown:#}");
    assert_eq!(poll["options"][0]["votes_count"], 1, "{shown:#}");
    let poll_id = poll["id"].as_str().expect("a poll id");
    let (status, voted) = perch
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/polls/{poll_id}/votes"),
            &alice,
            Some(json!({"choices": ["1"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{voted}");
    assert_eq!(voted["own_votes"], json!([1]), "{voted}");
    drain(&[&perch]).await;
    let votes = fedify
        .read_until(&format!("votes?id={question_uri}"), |v| {
            v["coffee"].as_array().is_some_and(|c| !c.is_empty())
        })
        .await;
    assert_eq!(votes["coffee"], json!([alice_uri]), "{votes}");
    assert_eq!(votes["tea"], json!([fedify.actor("carol")]), "{votes}");

    // Perch verifies strictly: an unsigned activity, one signed for Bob by
    // Carol's key, and one changed after Bob signed it are refused, and
    // none is applied.
    let inbox = Url::parse(&perch.url("/users/alice/inbox")).expect("url");
    let unsigned = perch
        .client
        .post(inbox.clone())
        .header("Content-Type", "application/activity+json")
        .body(
            json!({
                "id": format!("{}/unsigned", fedify.actor("bob")),
                "type": "Like",
                "actor": fedify.actor("bob"),
                "object": hers_uri,
            })
            .to_string(),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let forged = fedify
        .control(
            "forged",
            json!({"actor": "bob", "inbox": inbox.as_str(), "as": "carol"}),
        )
        .await;
    assert_eq!(forged["status"], 401, "{forged}");
    let tampered = fedify
        .control("tampered", json!({"actor": "bob", "inbox": inbox.as_str()}))
        .await;
    assert_eq!(tampered["status"], 401, "{tampered}");
    drain(&[&perch]).await;
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["favourites_count"], 0, "{counted}");
    for refused in [&forged, &tampered] {
        let note = refused["note"].as_str().expect("note id");
        let stored = perch_db::statuses::find_by_uri(&perch.db, note)
            .await
            .expect("read");
        assert!(stored.is_none(), "{note} was stored");
    }

    // Bob unfollows Alice.
    fedify
        .control("unfollow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    assert_eq!(
        relationship(&perch, &alice, &bob_id).await["followed_by"],
        false
    );

    // Bob deletes his account: everything of his goes here.
    let reply_uri = reply["id"].as_str().expect("id");
    assert!(
        perch_db::statuses::find_by_uri(&perch.db, reply_uri)
            .await
            .expect("read")
            .is_some()
    );
    fedify.control("leave", json!({"actor": "bob"})).await;
    drain(&[&perch]).await;
    for gone in [reply_uri, &question_uri] {
        let stored = perch_db::statuses::find_by_uri(&perch.db, gone)
            .await
            .expect("read");
        assert!(stored.is_none(), "{gone} is still here");
    }
    let (_, followed) = perch
        .get(&format!("/api/v1/accounts/{alice_id}/following"), &alice)
        .await;
    assert_eq!(followed, json!([]), "Alice follows Bob no more");
}

#[tokio::test]
async fn fedify_s_follow_requests_to_a_locked_account_are_answered_when_decided() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_locked_user("dora", PASSWORD).await;
    let dora = perch.token("dora").await;
    let dora_uri = perch.url("/users/dora");

    // Bob and Carol ask to follow Dora, who keeps them waiting.
    for actor in ["bob", "carol"] {
        fedify
            .control("follow", json!({"actor": actor, "target": dora_uri}))
            .await;
    }
    drain(&[&perch]).await;
    for actor in ["bob", "carol"] {
        let following = fedify.read(&format!("following?actor={actor}")).await;
        assert_eq!(following[&dora_uri], "pending", "{actor}: {following}");
    }
    let (_, requests) = perch.get("/api/v1/follow_requests", &dora).await;
    let asking = |name: &str| {
        requests
            .as_array()
            .expect("a list")
            .iter()
            .find(|a| a["acct"] == format!("{name}@{}", fedify.domain))
            .unwrap_or_else(|| panic!("no request from {name}: {requests:#}"))["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (bob, carol) = (asking("bob"), asking("carol"));

    // Dora accepts Bob and rejects Carol: each hears the answer.
    let (status, _) = perch
        .post(&format!("/api/v1/follow_requests/{bob}/authorize"), &dora)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = perch
        .post(&format!("/api/v1/follow_requests/{carol}/reject"), &dora)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    fedify
        .read_until("following?actor=bob", |f| f[&dora_uri] == "accepted")
        .await;
    fedify
        .read_until("following?actor=carol", |f| f[&dora_uri] == "rejected")
        .await;
    let reject = fedify
        .received("Dora's Reject", |e| e["type"] == "Reject")
        .await;
    assert_eq!(reject["actor"], dora_uri);
    assert_eq!(
        reject["object"]["actor"],
        fedify.actor("carol"),
        "{reject:#}"
    );
    assert_eq!(relationship(&perch, &dora, &bob).await["followed_by"], true);
    assert_eq!(
        relationship(&perch, &dora, &carol).await["followed_by"],
        false
    );
}
