//! Direct conversations across two instances: a direct status from
//! another server starts an unread conversation here, a reply from here
//! joins the thread on both sides, and a remote deletion takes its status
//! out of the conversation again.

use perch_federation_tests::{Instance, PASSWORD, drain};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn conversations(instance: &Instance, token: &str) -> Vec<Value> {
    let (status, body) = instance.get("/api/v1/conversations", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("a list").clone()
}

#[tokio::test]
async fn a_remote_direct_status_starts_a_conversation_and_replies_join_it() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let (alice, bob) = (a.token("alice").await, b.token("bob").await);
    a.resolve(&alice, &format!("@bob@{}", b.domain)).await;

    let first = a
        .post_status(
            &alice,
            json!({"status": format!("@bob@{} a secret", b.domain), "visibility": "direct"}),
        )
        .await;
    drain(&[&a, &b]).await;

    let bobs = conversations(&b, &bob).await;
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    let conversation = &bobs[0];
    assert_eq!(conversation["unread"], true);
    assert_eq!(
        conversation["accounts"][0]["acct"],
        format!("alice@{}", a.domain)
    );
    assert_eq!(conversation["last_status"]["uri"], first["uri"]);
    assert_eq!(conversation["last_status"]["visibility"], "direct");
    let remote_first = conversation["last_status"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Bob answers in the thread: one conversation on each side, now
    // unread for alice.
    let reply = b
        .post_status(
            &bob,
            json!({
                "status": format!("@alice@{} got it", a.domain),
                "visibility": "direct",
                "in_reply_to_id": remote_first,
            }),
        )
        .await;
    drain(&[&a, &b]).await;
    let bobs = conversations(&b, &bob).await;
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    assert_eq!(bobs[0]["id"], conversation["id"]);
    assert_eq!(bobs[0]["unread"], false);
    let alices = conversations(&a, &alice).await;
    assert_eq!(alices.len(), 1, "{alices:?}");
    assert_eq!(alices[0]["unread"], true);
    assert_eq!(alices[0]["last_status"]["uri"], reply["uri"]);
    assert_eq!(
        alices[0]["accounts"][0]["acct"],
        format!("bob@{}", b.domain)
    );

    // Bob deletes his answer: alice's conversation shows her own again.
    let (status, body) = b
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/statuses/{}", reply["id"].as_str().expect("id")),
            &bob,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drain(&[&a, &b]).await;
    let alices = conversations(&a, &alice).await;
    assert_eq!(alices.len(), 1, "{alices:?}");
    assert_eq!(alices[0]["last_status"]["id"], first["id"]);
}
