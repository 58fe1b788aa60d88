//! The notification policy holds federated notifications back as it holds
//! local ones: a remote stranger's mention, filtered by the recipient's
//! policy, becomes a notification request on the recipient's server, and
//! once the request is accepted the sender's next mention arrives as usual.

use perch_federation_tests::{Instance, PASSWORD, drain};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn notifications(instance: &Instance, token: &str) -> Value {
    let (status, list) = instance.get("/api/v1/notifications", token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list
}

#[tokio::test]
async fn a_remote_strangers_filtered_mention_becomes_a_request() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let (alice, bob) = (a.token("alice").await, b.token("bob").await);
    let (status, policy) = a
        .send(
            Method::PATCH,
            "/api/v2/notifications/policy",
            &alice,
            Some(json!({"for_not_following": "filter"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{policy}");

    let address = format!("@alice@{}", a.domain);
    b.resolve(&bob, &address).await;
    b.post_status(
        &bob,
        json!({"status": format!("{address} hello from afar")}),
    )
    .await;
    drain(&[&a, &b]).await;

    assert_eq!(notifications(&a, &alice).await, json!([]));
    let (_, groups) = a.get("/api/v2/notifications", &alice).await;
    assert_eq!(groups["notification_groups"], json!([]), "{groups}");
    let (status, requests) = a.get("/api/v1/notifications/requests", &alice).await;
    assert_eq!(status, StatusCode::OK, "{requests}");
    assert_eq!(requests.as_array().map(Vec::len), Some(1), "{requests}");
    let request = &requests[0];
    assert_eq!(request["account"]["acct"], format!("bob@{}", b.domain));
    assert_eq!(request["notifications_count"], "1");
    assert!(
        request["last_status"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("hello from afar")),
        "{request}"
    );
    let (_, policy) = a.get("/api/v2/notifications/policy", &alice).await;
    assert_eq!(policy["summary"]["pending_requests_count"], 1, "{policy}");

    let id = request["id"].as_str().expect("id");
    let (status, _) = a
        .post(
            &format!("/api/v1/notifications/requests/{id}/accept"),
            &alice,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = notifications(&a, &alice).await;
    assert_eq!(list[0]["type"], "mention", "{list}");
    assert_eq!(list[0]["account"]["acct"], format!("bob@{}", b.domain));

    b.post_status(&bob, json!({"status": format!("{address} and again")}))
        .await;
    drain(&[&a, &b]).await;
    let list = notifications(&a, &alice).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let (_, requests) = a.get("/api/v1/notifications/requests", &alice).await;
    assert_eq!(requests, json!([]));
}
