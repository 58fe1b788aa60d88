//! Reports across two instances: a user's report of a remote account,
//! forwarded, reaches that account's server as a Flag from the instance
//! actor (the reporter unnamed) and becomes a report there; without
//! `forward`, nothing leaves.

use perch_federation_tests::{Instance, PASSWORD, drain};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn report(instance: &Instance, token: &str, body: Value) -> Value {
    let response = instance
        .client
        .post(instance.url("/api/v1/reports"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_forwarded_report_becomes_a_report_on_the_other_server() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    let bob_id = b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let bob = b.token("bob").await;
    let bob_on_a = a.resolve(&alice, &format!("bob@{}", b.domain)).await;
    let (status, _) = a
        .post(&format!("/api/v1/accounts/{bob_on_a}/follow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&a, &b]).await;
    let response = b
        .client
        .post(b.url("/api/v1/statuses"))
        .bearer_auth(&bob)
        .json(&json!({"status": "spam spam spam"}))
        .send()
        .await
        .expect("sent");
    let posted: Value = response.json().await.expect("json");
    drain(&[&a, &b]).await;
    let (_, home) = a.get("/api/v1/timelines/home", &alice).await;
    let spam_on_a = home[0]["id"]
        .as_str()
        .expect("bob's status reached A")
        .to_owned();

    // Not forwarded: stays on A.
    let kept = report(
        &a,
        &alice,
        json!({"account_id": bob_on_a, "comment": "only here"}),
    )
    .await;
    assert_eq!(kept["forwarded"], false);
    drain(&[&a, &b]).await;
    let about_bob = perch_db::reports::about(&b.db, bob_id, 10)
        .await
        .expect("reports");
    assert!(about_bob.is_empty(), "{about_bob:?}");

    let forwarded = report(
        &a,
        &alice,
        json!({"account_id": bob_on_a, "status_ids": [spam_on_a], "comment": "spam", "forward": true}),
    )
    .await;
    assert_eq!(forwarded["forwarded"], true, "{forwarded}");
    drain(&[&a, &b]).await;
    let about_bob = perch_db::reports::about(&b.db, bob_id, 10)
        .await
        .expect("reports");
    assert_eq!(about_bob.len(), 1, "{about_bob:?}");
    let received = &about_bob[0];
    assert_eq!(received.comment, "spam");
    let reporter =
        perch_db::accounts::find_by_id(&b.db, perch_core::id::Id::from_i64(received.account_id))
            .await
            .expect("q")
            .expect("the reporter is known on B");
    assert_eq!(
        reporter.actor_type, "Application",
        "A's instance actor, not alice"
    );
    assert_eq!(reporter.domain.as_deref(), Some(a.domain.as_str()));
    let statuses = perch_db::reports::status_ids(&b.db, received.id)
        .await
        .expect("q");
    assert_eq!(
        statuses,
        vec![posted["id"].as_str().unwrap().parse::<i64>().unwrap()]
    );
}
