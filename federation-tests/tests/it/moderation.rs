//! A remote account suspended by a moderator: what it sends is dropped at
//! the inbox before anything is fetched or stored, and nothing is
//! delivered to it any more, not even a mention; unsuspended, both resume.

use perch_federation_tests::{Instance, PASSWORD, drain, texts};
use perch_server::testing::Role;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_suspended_remote_account_is_neither_heard_nor_served() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    a.create_with_role("mo", PASSWORD, Role::Moderator).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let mo = a
        .token_with_scopes("mo", "read write admin:read admin:write")
        .await;
    let bob = b.token("bob").await;
    let bob_on_a = a.resolve(&alice, &format!("bob@{}", b.domain)).await;
    let alice_on_b = b.resolve(&bob, &format!("alice@{}", a.domain)).await;
    for (instance, token, id) in [(&a, &alice, &bob_on_a), (&b, &bob, &alice_on_b)] {
        let (status, _) = instance
            .post(&format!("/api/v1/accounts/{id}/follow"), token)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    drain(&[&a, &b]).await;

    let response = a
        .client
        .post(a.url(&format!("/api/v1/admin/accounts/{bob_on_a}/action")))
        .bearer_auth(&mo)
        .json(&json!({"type": "suspend"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);

    b.post_status(&bob, json!({"status": "from bob while suspended"}))
        .await;
    a.post_status(
        &alice,
        json!({"status": "from alice while bob is suspended"}),
    )
    .await;
    // Not even a mention reaches him.
    a.post_status(
        &alice,
        json!({
            "status": format!("@bob@{} from alice, directly", b.domain),
            "visibility": "direct",
        }),
    )
    .await;
    drain(&[&a, &b]).await;
    let (_, mentions) = b.get("/api/v1/notifications?types[]=mention", &bob).await;
    assert_eq!(mentions, json!([]), "no mention reached bob");
    assert!(
        texts(&a, &alice, "/api/v1/timelines/home")
            .await
            .iter()
            .all(|t| !t.contains("from bob")),
        "A dropped bob's note"
    );
    assert!(
        texts(&b, &bob, "/api/v1/timelines/home")
            .await
            .iter()
            .all(|t| !t.contains("from alice")),
        "nothing was delivered to bob"
    );

    let response = a
        .client
        .post(a.url(&format!("/api/v1/admin/accounts/{bob_on_a}/unsuspend")))
        .bearer_auth(&mo)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    b.post_status(&bob, json!({"status": "from bob again"}))
        .await;
    a.post_status(&alice, json!({"status": "from alice again"}))
        .await;
    drain(&[&a, &b]).await;
    assert!(
        texts(&a, &alice, "/api/v1/timelines/home")
            .await
            .iter()
            .any(|t| t.contains("from bob again"))
    );
    assert!(
        texts(&b, &bob, "/api/v1/timelines/home")
            .await
            .iter()
            .any(|t| t.contains("from alice again"))
    );
}
