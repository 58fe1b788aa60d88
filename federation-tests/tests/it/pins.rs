//! Pins across two instances: a follower's server reads the pins from the
//! actor's `featured` collection when the follow is accepted, then keeps
//! them with each `Add` and `Remove`.

use perch_federation_tests::{Instance, PASSWORD, drain, follow_across};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn pinned_on(instance: &Instance, token: &str, account: &str) -> Vec<String> {
    let (status, body) = instance
        .get(
            &format!("/api/v1/accounts/{account}/statuses?pinned=true"),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("list")
        .iter()
        .map(|s| s["uri"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn pin(instance: &Instance, token: &str, status: &Value, action: &str) {
    let id = status["id"].as_str().expect("id");
    let (status, body) = instance
        .post(&format!("/api/v1/statuses/{id}/{action}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn pins_reach_the_servers_of_the_followers() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let first = a
        .post_status(
            &alice,
            json!({"status": "pinned before", "visibility": "public"}),
        )
        .await;
    let second = a
        .post_status(
            &alice,
            json!({"status": "pinned after", "visibility": "public"}),
        )
        .await;
    pin(&a, &alice, &first, "pin").await;

    // Bob follows: B reads Alice's featured collection.
    let bob = b.token("bob").await;
    let alice_on_b = follow_across(&b, &bob, &format!("alice@{}", a.domain), &[&a, &b]).await;
    assert_eq!(
        pinned_on(&b, &bob, &alice_on_b).await,
        [first["uri"].as_str().expect("uri")]
    );

    // Then each pin and unpin travels as Add and Remove.
    pin(&a, &alice, &second, "pin").await;
    drain(&[&a, &b]).await;
    assert_eq!(pinned_on(&b, &bob, &alice_on_b).await.len(), 2);
    pin(&a, &alice, &first, "unpin").await;
    drain(&[&a, &b]).await;
    assert_eq!(
        pinned_on(&b, &bob, &alice_on_b).await,
        [second["uri"].as_str().expect("uri")]
    );
}
