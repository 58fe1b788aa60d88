//! Perch in secure mode and the Fedify peer answering only signed fetches
//! (`--secure`): they still follow, post and reply to each other, every
//! fetch signed (Perch's first, RFC 9421, refused by Fedify and the
//! draft-cavage one verified).

use perch_federation_tests::{Instance, PASSWORD, drain, follow_across, relationship};
use reqwest::StatusCode;
use serde_json::json;

use super::{Fedify, about, peer_installed};

#[tokio::test]
async fn perch_and_fedify_both_in_secure_mode_follow_and_deliver() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (
        Instance::start_with(|config| config.secure_mode = true).await,
        Fedify::start_with(&["--secure"]).await,
    );
    perch.create_user("alice", PASSWORD).await;
    let alice = perch.token("alice").await;
    let alice_uri = perch.url("/users/alice");
    // Neither answers an unsigned fetch of an actor.
    for actor in [&alice_uri, &fedify.actor("bob")] {
        let unsigned = fedify
            .client
            .get(actor.as_str())
            .header("Accept", "application/activity+json")
            .send()
            .await
            .expect("answered");
        assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED, "{actor}");
    }

    // Each follows the other: every fetch on the way (WebFinger aside) is
    // signed, and every delivery's key is fetched signed.
    let bob_id = follow_across(
        &perch,
        &alice,
        &format!("@bob@{}", fedify.domain),
        &[&perch],
    )
    .await;
    // Perch's first fetch of Bob was signed with RFC 9421, which Fedify
    // refused, and fetched again with draft-cavage, which it verified.
    let requests = fedify.read("requests").await;
    let fetches: Vec<(&str, u64)> = requests
        .as_array()
        .expect("a list")
        .iter()
        .filter(|r| r["method"] == "GET" && r["path"] == "/users/bob")
        .map(|r| {
            (
                r["scheme"].as_str().unwrap_or("none"),
                r["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        fetches[..2],
        [("rfc9421", 401), ("cavage", 200)],
        "{requests:#}"
    );
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

    // A post each way, and a reply to Alice's, which Fedify fetches signed.
    let hers = perch
        .post_status(&alice, json!({"status": "Secure hello"}))
        .await;
    let hers_uri = hers["uri"].as_str().expect("uri").to_owned();
    let hers_id = hers["id"].as_str().expect("id").to_owned();
    drain(&[&perch]).await;
    fedify
        .received("Alice's post", |e| about(e, "Create", &hers_uri))
        .await;
    let reply = fedify
        .control(
            "reply",
            json!({"actor": "bob", "inReplyTo": hers_uri, "content": "<p>Secure answer</p>"}),
        )
        .await;
    drain(&[&perch]).await;
    let (_, context) = perch
        .get(&format!("/api/v1/statuses/{hers_id}/context"), &alice)
        .await;
    assert_eq!(context["descendants"][0]["uri"], reply["id"], "{context:#}");
    assert_eq!(
        context["descendants"][0]["account"]["id"], bob_id,
        "{context:#}"
    );
}
