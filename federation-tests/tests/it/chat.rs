//! Chat across two instances: messages travel both ways as Pleroma's
//! ChatMessage (both sides advertise it) and land in each side's chat.

use perch_federation_tests::{Instance, PASSWORD, drain};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn open_chat(instance: &Instance, token: &str, account_id: &str) -> String {
    let (status, chat) = instance
        .post(
            &format!("/api/v1/pleroma/chats/by-account-id/{account_id}"),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{chat}");
    chat["id"].as_str().expect("chat id").to_owned()
}

async fn say(instance: &Instance, token: &str, chat: &str, content: &str) -> Value {
    let (status, message) = instance
        .send(
            Method::POST,
            &format!("/api/v1/pleroma/chats/{chat}/messages"),
            token,
            Some(json!({ "content": content })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{message}");
    message
}

#[tokio::test]
async fn a_federated_chat_delivers_messages_both_ways() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let (alice, bob) = (a.token("alice").await, b.token("bob").await);

    let bob_on_a = a.resolve(&alice, &format!("bob@{}", b.domain)).await;
    let chat_on_a = open_chat(&a, &alice, &bob_on_a).await;
    say(&a, &alice, &chat_on_a, "hello from A").await;
    drain(&[&a, &b]).await;

    let (_, chats) = b.get("/api/v1/pleroma/chats", &bob).await;
    assert_eq!(chats.as_array().map(Vec::len), Some(1), "{chats}");
    assert_eq!(chats[0]["account"]["acct"], format!("alice@{}", a.domain));
    assert_eq!(chats[0]["unread"], 1);
    assert!(
        chats[0]["last_message"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("hello from A")),
        "{chats}"
    );
    let chat_on_b = chats[0]["id"].as_str().unwrap().to_owned();
    // A ChatMessage is a chat message only, not a status.
    let (_, home) = b.get("/api/v1/timelines/home", &bob).await;
    assert_eq!(home, json!([]));

    say(&b, &bob, &chat_on_b, "hello back from B").await;
    drain(&[&a, &b]).await;
    let (_, messages) = a
        .get(
            &format!("/api/v1/pleroma/chats/{chat_on_a}/messages"),
            &alice,
        )
        .await;
    let contents: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents.len(), 2, "{messages}");
    assert!(contents[0].contains("hello back from B"));
    assert!(contents[1].contains("hello from A"));
    assert_eq!(messages[0]["account_id"], bob_on_a.as_str());

    // Redelivered, a message is stored once.
    drain(&[&a, &b]).await;
    let (_, again) = b
        .get(&format!("/api/v1/pleroma/chats/{chat_on_b}/messages"), &bob)
        .await;
    assert_eq!(again.as_array().map(Vec::len), Some(2), "{again}");
}
