//! Notes arriving in the inbox, signed by a real actor of another instance:
//! authorship and ownership are checked before anything changes, addressing
//! decides who reads, strangers' posts are not stored, and HTML is cleaned.

use std::time::SystemTime;

use perch_db::statuses;
use perch_federation_tests::{Instance, PASSWORD, drain};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::inbox::{Setup, post, setup};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn send(setup: &Setup, activity: &Value) -> StatusCode {
    let body = serde_json::to_vec(activity).expect("json");
    let headers = crate::inbox::signed(setup, &body, SystemTime::now());
    post(setup, headers, body).await
}

fn note(setup: &Setup, n: &str, author: &str, to: Value, extra: Value) -> Value {
    let mut note = json!({
        "id": format!("{}/notes/{n}", setup.a.base_url),
        "type": "Note",
        "attributedTo": author,
        "content": format!("<p>note {n}</p>"),
        "to": to,
        "cc": [],
        "published": "2026-11-20T10:00:00Z",
    });
    if let (Some(note), Some(extra)) = (note.as_object_mut(), extra.as_object()) {
        note.extend(extra.clone());
    }
    note
}

fn activity(setup: &Setup, kind: &str, n: &str, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/{kind}-{n}", setup.a.base_url),
        "type": kind,
        "actor": setup.alice_uri,
        "object": object,
    })
}

async fn stored(instance: &Instance, uri: &str) -> Option<statuses::StatusRow> {
    statuses::find_by_uri(&instance.db, uri)
        .await
        .expect("query")
}

/// Bob (on B) follows Alice (on A), so her posts are wanted on B.
async fn bob_follows_alice(setup: &Setup) -> String {
    let token = setup.b.token("bob").await;
    let alice = setup
        .b
        .resolve(&token, &format!("alice@{}", setup.a.domain))
        .await;
    setup
        .b
        .post(&format!("/api/v1/accounts/{alice}/follow"), &token)
        .await;
    drain(&[&setup.a, &setup.b]).await;
    token
}

#[tokio::test]
async fn a_note_claiming_another_author_is_refused() {
    let setup = setup().await;
    bob_follows_alice(&setup).await;
    let forged = note(&setup, "1", &setup.carol_uri, json!([PUBLIC]), json!({}));
    let status = send(&setup, &activity(&setup, "Create", "1", forged.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        stored(&setup.b, forged["id"].as_str().unwrap())
            .await
            .is_none()
    );
}

#[tokio::test]
async fn only_the_author_may_update_or_delete_a_status() {
    let setup = setup().await;
    bob_follows_alice(&setup).await;
    // Carol's post reaches B through a follow of hers.
    let bob = setup.b.token("bob").await;
    let carol = setup
        .b
        .resolve(&bob, &format!("carol@{}", setup.a.domain))
        .await;
    setup
        .b
        .post(&format!("/api/v1/accounts/{carol}/follow"), &bob)
        .await;
    drain(&[&setup.a, &setup.b]).await;
    let carol_token = setup.a.token("carol").await;
    let posted = setup
        .a
        .post_status(&carol_token, json!({"status": "carol's own"}))
        .await;
    drain(&[&setup.a, &setup.b]).await;
    let uri = posted["uri"].as_str().unwrap().to_owned();
    assert!(stored(&setup.b, &uri).await.is_some());

    // Alice claims Carol's status as hers and edits it, then deletes it.
    let mut hijack = note(&setup, "x", &setup.alice_uri, json!([PUBLIC]), json!({}));
    hijack["id"] = json!(uri);
    hijack["content"] = json!("<p>defaced</p>");
    // Both pass the inbox's checks (signed by their actor, ids on its
    // server) and are refused when applied: nothing changes.
    let status = send(&setup, &activity(&setup, "Update", "1", hijack)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let status = send(&setup, &activity(&setup, "Delete", "1", json!(uri))).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let row = stored(&setup.b, &uri).await.expect("still there");
    assert!(
        row.content.contains("carol&#39;s own") || row.content.contains("carol's own"),
        "{}",
        row.content
    );
}

#[tokio::test]
async fn a_direct_note_is_read_only_by_those_it_addresses() {
    let setup = setup().await;
    setup.b.create_user("dave", PASSWORD).await;
    let (bob, dave) = (setup.b.token("bob").await, setup.b.token("dave").await);
    // Addressed to Bob alone, with no Mention tag (as some servers send).
    let direct = note(
        &setup,
        "2",
        &setup.alice_uri,
        json!([setup.bob_uri]),
        json!({}),
    );
    let status = send(&setup, &activity(&setup, "Create", "2", direct.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let row = stored(&setup.b, direct["id"].as_str().unwrap())
        .await
        .expect("stored: it addresses a local account");
    assert_eq!(row.visibility, 3, "direct");
    let path = format!("/api/v1/statuses/{}", row.id);
    let (status, seen) = setup.b.get(&path, &bob).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["visibility"], "direct");
    let (status, _) = setup.b.get(&path, &dave).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, public) = setup.b.get("/api/v1/timelines/public", &dave).await;
    assert_eq!(public, json!([]));
    let (_, home) = setup.b.get("/api/v1/timelines/home", &bob).await;
    assert_eq!(home[0]["id"], row.id.to_string());
    let (_, notes) = setup.b.get("/api/v1/notifications", &bob).await;
    assert_eq!(notes[0]["type"], "mention", "{notes}");
    // It is also a message in Bob's chat with Alice.
    let (_, chats) = setup.b.get("/api/v1/pleroma/chats", &bob).await;
    assert_eq!(chats.as_array().map(Vec::len), Some(1), "{chats}");
    assert!(
        chats[0]["last_message"]["content"]
            .as_str()
            .unwrap()
            .contains("note 2")
    );
    let (_, none) = setup.b.get("/api/v1/pleroma/chats", &dave).await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn strangers_posts_are_not_stored_and_html_is_cleaned() {
    let setup = setup().await;
    let stray = note(&setup, "3", &setup.alice_uri, json!([PUBLIC]), json!({}));
    let status = send(&setup, &activity(&setup, "Create", "3", stray.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "acknowledged");
    assert!(
        stored(&setup.b, stray["id"].as_str().unwrap())
            .await
            .is_none(),
        "nobody on B follows alice or is addressed"
    );

    bob_follows_alice(&setup).await;
    let hostile = note(
        &setup,
        "4",
        &setup.alice_uri,
        json!([PUBLIC]),
        json!({
            "content": "<p onmouseover=\"steal()\">hi<script>alert(1)</script><img src=x onerror=y>\
                        <a href=\"javascript:alert(1)\">link</a></p>",
            "summary": "<b>cw</b>",
        }),
    );
    let status = send(&setup, &activity(&setup, "Create", "4", hostile.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let row = stored(&setup.b, hostile["id"].as_str().unwrap())
        .await
        .expect("stored: bob follows alice");
    for bad in ["script", "onmouseover", "onerror", "<img", "javascript:"] {
        assert!(!row.content.contains(bad), "{bad} in {}", row.content);
    }
    assert_eq!(row.spoiler_text, "cw");
    assert!(row.sensitive);
    // Replayed, it is applied once.
    let status = send(&setup, &activity(&setup, "Create", "4", hostile)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let bob = setup.b.token("bob").await;
    let (_, home) = setup.b.get("/api/v1/timelines/home", &bob).await;
    assert_eq!(home.as_array().map(Vec::len), Some(1), "{home}");
}

#[tokio::test]
async fn tags_mentions_and_addressees_past_the_limits_are_dropped() {
    use perch_apub::objects::note::{MAX_ADDRESSEES, MAX_HASHTAGS, MAX_MENTIONS};
    let setup = setup().await;
    let bob = bob_follows_alice(&setup).await;
    let ghost = |i: usize| format!("{}/users/ghost{i}", setup.a.base_url);
    // Carol is mentioned first, Bob only past the limit of mentions.
    let mut tags = vec![json!({"type": "Mention", "href": setup.carol_uri})];
    tags.extend((1..MAX_MENTIONS + 20).map(|i| json!({"type": "Mention", "href": ghost(i)})));
    tags.push(json!({"type": "Mention", "href": setup.bob_uri}));
    tags.extend(
        (0..MAX_HASHTAGS + 50).map(|i| json!({"type": "Hashtag", "name": format!("#t{i}")})),
    );
    let crowded = note(
        &setup,
        "5",
        &setup.alice_uri,
        json!([PUBLIC]),
        json!({ "tag": tags }),
    );
    let status = send(&setup, &activity(&setup, "Create", "5", crowded.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED, "accepted, leniently");
    let row = stored(&setup.b, crowded["id"].as_str().unwrap())
        .await
        .expect("stored: bob follows alice");
    let (status, seen) = setup
        .b
        .get(&format!("/api/v1/statuses/{}", row.id), &bob)
        .await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["tags"].as_array().map(Vec::len), Some(MAX_HASHTAGS));
    let mentioned: Vec<&str> = seen["mentions"]
        .as_array()
        .expect("mentions")
        .iter()
        .filter_map(|m| m["username"].as_str())
        .collect();
    assert_eq!(mentioned, vec!["carol"], "{seen}");

    // Addressed to Bob only past the limit of addressees: not for him.
    let mut cc: Vec<String> = (0..MAX_ADDRESSEES + 20).map(ghost).collect();
    cc.push(setup.bob_uri.clone());
    let addressed = note(
        &setup,
        "6",
        &setup.alice_uri,
        json!([PUBLIC]),
        json!({ "cc": cc }),
    );
    let status = send(&setup, &activity(&setup, "Create", "6", addressed.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let row = stored(&setup.b, addressed["id"].as_str().unwrap())
        .await
        .expect("stored: bob follows alice");
    let (_, seen) = setup
        .b
        .get(&format!("/api/v1/statuses/{}", row.id), &bob)
        .await;
    assert_eq!(seen["mentions"], json!([]), "{seen}");
    let (_, notifications) = setup.b.get("/api/v1/notifications", &bob).await;
    assert!(
        notifications
            .as_array()
            .expect("notifications")
            .iter()
            .all(|n| n["type"] != "mention"),
        "{notifications}"
    );
}

#[tokio::test]
async fn a_quote_post_links_what_it_quotes_in_each_way_servers_name_it() {
    let setup = setup().await;
    bob_follows_alice(&setup).await;
    let quoted = "https://elsewhere.example/notes/42";
    let shapes = [
        ("q1", json!({"quoteUri": quoted})),
        ("q2", json!({"_misskey_quote": quoted})),
        (
            "q3",
            json!({"tag": [{
                "type": "Link",
                "mediaType": "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
                "href": quoted,
            }]}),
        ),
        // Already linked in its text: not linked twice.
        (
            "q4",
            json!({"quoteUrl": quoted, "content": format!("<p>see <a href=\"{quoted}\">this</a></p>")}),
        ),
        // Not a web URL: no link.
        ("q5", json!({"quoteUri": "javascript:alert(1)"})),
    ];
    for (n, extra) in shapes {
        let quote = note(&setup, n, &setup.alice_uri, json!([PUBLIC]), extra);
        let status = send(&setup, &activity(&setup, "Create", n, quote.clone())).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{n}");
        drain(&[&setup.a, &setup.b]).await;
        let row = stored(&setup.b, quote["id"].as_str().unwrap())
            .await
            .unwrap_or_else(|| panic!("{n} stored"));
        let links = row.content.matches(quoted).count();
        match n {
            "q5" => {
                assert!(!row.content.contains("javascript"), "{n}: {}", row.content);
                assert!(!row.content.contains("RE:"), "{n}: {}", row.content);
            }
            _ => assert_eq!(links, if n == "q4" { 1 } else { 2 }, "{n}: {}", row.content),
        }
    }
}

#[tokio::test]
async fn an_emoji_reaction_counts_as_a_favourite_until_it_is_undone() {
    let setup = setup().await;
    let bob = setup.b.token("bob").await;
    let posted = setup
        .b
        .post_status(
            &bob,
            json!({"status": "react to me", "visibility": "public"}),
        )
        .await;
    let uri = posted["uri"].as_str().unwrap().to_owned();
    let id = posted["id"].as_str().unwrap().to_owned();
    let mut react = activity(&setup, "EmojiReact", "r1", json!(uri));
    react["content"] = json!("🐦");
    let status = send(&setup, &react).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&[&setup.a, &setup.b]).await;
    let (_, seen) = setup.b.get(&format!("/api/v1/statuses/{id}"), &bob).await;
    assert_eq!(seen["favourites_count"], 1, "{seen}");

    let undo = activity(&setup, "Undo", "r1", react.clone());
    let status = send(&setup, &undo).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&[&setup.a, &setup.b]).await;
    let (_, seen) = setup.b.get(&format!("/api/v1/statuses/{id}"), &bob).await;
    assert_eq!(seen["favourites_count"], 0, "{seen}");
}

#[tokio::test]
async fn an_update_that_changes_nothing_shown_is_not_an_edit() {
    let setup = setup().await;
    bob_follows_alice(&setup).await;
    let original = note(&setup, "u1", &setup.alice_uri, json!([PUBLIC]), json!({}));
    let uri = original["id"].as_str().unwrap().to_owned();
    let status = send(&setup, &activity(&setup, "Create", "u1", original.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&[&setup.a, &setup.b]).await;

    // Sent again unchanged, as a poll's vote counts are: still unedited.
    let status = send(&setup, &activity(&setup, "Update", "u1", original.clone())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&[&setup.a, &setup.b]).await;
    let row = stored(&setup.b, &uri).await.expect("stored");
    assert_eq!(row.edited_at, None);

    // A new text is an edit.
    let mut edited = original;
    edited["content"] = json!("<p>note u1, edited</p>");
    edited["updated"] = json!("2026-11-20T11:00:00Z");
    let status = send(&setup, &activity(&setup, "Update", "u2", edited)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&[&setup.a, &setup.b]).await;
    let row = stored(&setup.b, &uri).await.expect("stored");
    assert!(row.content.contains("edited"), "{}", row.content);
    assert!(row.edited_at.is_some());
}
