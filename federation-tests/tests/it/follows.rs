//! Discovery and follows across two instances: WebFinger and actor lookup,
//! follow → accept, locked accounts (authorize, reject), unfollow, and
//! removal from followers — asserted on both sides.

use perch_federation_tests::{Instance, PASSWORD, drain, relationship};
use reqwest::StatusCode;
use serde_json::Value;

async fn account(instance: &Instance, token: &str, path: &str) -> Value {
    let (status, body) = instance.get(path, token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

#[tokio::test]
async fn lookups_find_remote_accounts_through_webfinger() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    // Bob's profile has a field and a note, which travel with his actor.
    let bob_token = b.token("bob").await;
    let updated = b
        .client
        .patch(b.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&bob_token)
        .json(&serde_json::json!({
            "note": "Hello from B",
            "fields_attributes": [{"name": "Site", "value": "https://b.example"}],
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(updated.status(), StatusCode::OK);

    let bob_on_a = a.resolve(&alice, &format!("@bob@{}", b.domain)).await;
    let bob = account(&a, &alice, &format!("/api/v1/accounts/{bob_on_a}")).await;
    assert_eq!(bob["acct"], format!("bob@{}", b.domain));
    assert!(
        bob["note"]
            .as_str()
            .is_some_and(|n| n.contains("Hello from B")),
        "{bob}"
    );
    assert_eq!(bob["fields"][0]["name"], "Site", "{bob}");
    assert!(
        bob["fields"][0]["value"]
            .as_str()
            .is_some_and(|v| v.contains("https://b.example"))
    );
    assert_eq!(bob["username"], "bob");
    assert_eq!(bob["url"], format!("{}/@bob", b.base_url));
    // By actor URL too, and the second lookup comes from the database.
    let again = a
        .resolve(&alice, &format!("{}/users/bob", b.base_url))
        .await;
    assert_eq!(again, bob_on_a);

    // Unknown users resolve to nothing.
    let (status, body) = a
        .get(
            &format!("/api/v2/search?q=@nobody@{}&resolve=true", b.domain),
            &alice,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["accounts"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn follow_is_accepted_and_counted_on_both_sides_then_undone() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let bob = b.token("bob").await;
    let bob_on_a = a.resolve(&alice, &format!("bob@{}", b.domain)).await;

    let (status, rel) = a
        .post(&format!("/api/v1/accounts/{bob_on_a}/follow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK, "{rel}");
    assert_eq!(
        rel["requested"], true,
        "a remote follow waits for the Accept"
    );
    assert_eq!(rel["following"], false);

    drain(&[&a, &b]).await;

    let rel = relationship(&a, &alice, &bob_on_a).await;
    assert_eq!(rel["following"], true, "{rel}");
    assert_eq!(rel["requested"], false);
    let me = account(&a, &alice, "/api/v1/accounts/verify_credentials").await;
    assert_eq!(me["following_count"], 1);

    let bob_me = account(&b, &bob, "/api/v1/accounts/verify_credentials").await;
    assert_eq!(bob_me["followers_count"], 1);
    let bob_id = bob_me["id"].as_str().expect("id").to_owned();
    let followers = account(&b, &bob, &format!("/api/v1/accounts/{bob_id}/followers")).await;
    assert_eq!(followers[0]["acct"], format!("alice@{}", a.domain));
    let alice_on_b = followers[0]["id"].as_str().expect("id").to_owned();
    let rel = relationship(&b, &bob, &alice_on_b).await;
    assert_eq!(rel["followed_by"], true);

    // Unfollow: the Undo reaches B.
    let (status, rel) = a
        .post(&format!("/api/v1/accounts/{bob_on_a}/unfollow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rel["following"], false);
    drain(&[&a, &b]).await;
    let bob_me = account(&b, &bob, "/api/v1/accounts/verify_credentials").await;
    assert_eq!(bob_me["followers_count"], 0);
    let followers = account(&b, &bob, &format!("/api/v1/accounts/{bob_id}/followers")).await;
    assert_eq!(followers.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn locked_accounts_authorize_or_reject_requests() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    a.create_user("carol", PASSWORD).await;
    b.create_locked_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let carol = a.token("carol").await;
    let bob = b.token("bob").await;
    let bob_on_a = a.resolve(&alice, &format!("bob@{}", b.domain)).await;

    for token in [&alice, &carol] {
        let (status, _) = a
            .post(&format!("/api/v1/accounts/{bob_on_a}/follow"), token)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    drain(&[&a, &b]).await;

    // Two pending requests on B; nothing accepted yet on A.
    let requests = account(&b, &bob, "/api/v1/follow_requests").await;
    let requests = requests.as_array().expect("list");
    assert_eq!(requests.len(), 2);
    let id_of = |username: &str| {
        requests
            .iter()
            .find(|r| r["username"] == username)
            .and_then(|r| r["id"].as_str())
            .expect("requester")
            .to_owned()
    };
    let (alice_on_b, carol_on_b) = (id_of("alice"), id_of("carol"));
    assert_eq!(relationship(&a, &alice, &bob_on_a).await["requested"], true);

    let (status, rel) = b
        .post(
            &format!("/api/v1/follow_requests/{alice_on_b}/authorize"),
            &bob,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rel["followed_by"], true);
    let (status, rel) = b
        .post(
            &format!("/api/v1/follow_requests/{carol_on_b}/reject"),
            &bob,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rel["requested_by"], false);
    drain(&[&a, &b]).await;

    let rel = relationship(&a, &alice, &bob_on_a).await;
    assert_eq!(
        (rel["following"].clone(), rel["requested"].clone()),
        (true.into(), false.into())
    );
    let rel = relationship(&a, &carol, &bob_on_a).await;
    assert_eq!(
        (rel["following"].clone(), rel["requested"].clone()),
        (false.into(), false.into())
    );
    let bob_me = account(&b, &bob, "/api/v1/accounts/verify_credentials").await;
    assert_eq!(bob_me["followers_count"], 1);
    assert_eq!(
        account(&b, &bob, "/api/v1/follow_requests")
            .await
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // Bob removes alice from his followers: a Reject reaches A.
    let (status, rel) = b
        .post(
            &format!("/api/v1/accounts/{alice_on_b}/remove_from_followers"),
            &bob,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rel["followed_by"], false);
    drain(&[&a, &b]).await;
    let rel = relationship(&a, &alice, &bob_on_a).await;
    assert_eq!(rel["following"], false, "{rel}");
    let me = account(&a, &alice, "/api/v1/accounts/verify_credentials").await;
    assert_eq!(me["following_count"], 0);
}
