//! Blocks across two instances: a local block ends the follows both ways
//! and reaches the blocked account's server as a Block, which that server
//! honours (and its Undo); a user's block of a whole server ends its
//! follows there, and a Follow from that server is answered with a Reject.

use perch_federation_tests::{Instance, PASSWORD, drain, relationship};
use reqwest::StatusCode;
use serde_json::Value;

async fn act(instance: &Instance, token: &str, id: &str, action: &str) -> Value {
    let (status, body) = instance
        .post(&format!("/api/v1/accounts/{id}/{action}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    body
}

#[tokio::test]
async fn a_block_crosses_to_the_other_server_both_ways() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let bob = b.token("bob").await;
    let bob_on_a = a.resolve(&alice, &format!("bob@{}", b.domain)).await;
    let alice_on_b = b.resolve(&bob, &format!("alice@{}", a.domain)).await;
    act(&a, &alice, &bob_on_a, "follow").await;
    act(&b, &bob, &alice_on_b, "follow").await;
    drain(&[&a, &b]).await;
    let rel = relationship(&b, &bob, &alice_on_b).await;
    assert_eq!(
        (rel["following"].as_bool(), rel["followed_by"].as_bool()),
        (Some(true), Some(true)),
        "{rel}"
    );

    // Alice blocks bob: both follows end on both sides.
    let rel = act(&a, &alice, &bob_on_a, "block").await;
    assert_eq!(rel["blocking"], true);
    assert_eq!(rel["following"], false);
    assert_eq!(rel["followed_by"], false);
    drain(&[&a, &b]).await;
    let rel = relationship(&b, &bob, &alice_on_b).await;
    assert_eq!(rel["blocked_by"], true, "B stored the Block: {rel}");
    assert_eq!(rel["following"], false, "{rel}");
    assert_eq!(rel["followed_by"], false, "{rel}");

    // B knows of the block: bob cannot ask to follow alice again.
    let (status, body) = b
        .post(&format!("/api/v1/accounts/{alice_on_b}/follow"), &bob)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    act(&a, &alice, &bob_on_a, "unblock").await;
    drain(&[&a, &b]).await;
    let rel = relationship(&b, &bob, &alice_on_b).await;
    assert_eq!(rel["blocked_by"], false, "the Undo reached B: {rel}");

    // The other way round: bob's Block reaches A, and so does its Undo.
    act(&b, &bob, &alice_on_b, "block").await;
    drain(&[&a, &b]).await;
    let rel = relationship(&a, &alice, &bob_on_a).await;
    assert_eq!(rel["blocked_by"], true, "{rel}");
    let (status, body) = a
        .post(&format!("/api/v1/accounts/{bob_on_a}/follow"), &alice)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no follow of a blocker: {body}"
    );
    act(&b, &bob, &alice_on_b, "unblock").await;
    drain(&[&a, &b]).await;
    let rel = relationship(&a, &alice, &bob_on_a).await;
    assert_eq!(rel["blocked_by"], false, "{rel}");

    // A block of bob's whole server ends alice's follow of him too.
    act(&a, &alice, &bob_on_a, "follow").await;
    drain(&[&a, &b]).await;
    assert_eq!(relationship(&a, &alice, &bob_on_a).await["following"], true);
    let blocked = a
        .client
        .post(a.url("/api/v1/domain_blocks"))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"domain": b.domain}))
        .send()
        .await
        .expect("sent");
    assert_eq!(blocked.status(), StatusCode::OK);
    let rel = relationship(&a, &alice, &bob_on_a).await;
    assert_eq!(rel["domain_blocking"], true, "{rel}");
    assert_eq!(rel["following"], false, "{rel}");
    drain(&[&a, &b]).await;
    let rel = relationship(&b, &bob, &alice_on_b).await;
    assert_eq!(rel["followed_by"], false, "the Undo reached B: {rel}");

    // B does not know of that block, so bob may ask: A answers Reject.
    let rel = act(&b, &bob, &alice_on_b, "follow").await;
    assert_eq!(rel["requested"], true, "{rel}");
    drain(&[&a, &b]).await;
    let rel = relationship(&b, &bob, &alice_on_b).await;
    assert_eq!(
        (rel["following"].as_bool(), rel["requested"].as_bool()),
        (Some(false), Some(false)),
        "{rel}"
    );
    let rel = relationship(&a, &alice, &bob_on_a).await;
    assert_eq!(rel["followed_by"], false, "{rel}");
}
