//! Featured hashtags on a profile: featured by name (at most ten, each
//! once), listed with how many of the account's public posts carry them,
//! suggested from the hashtags one uses most, and shown to anyone.

use perch_server::testing::{PASSWORD, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn feature(server: &TestServer, token: &str, name: &str) -> (StatusCode, Value) {
    server
        .send(
            Method::POST,
            "/api/v1/featured_tags",
            token,
            Some(json!({ "name": name })),
        )
        .await
}

#[tokio::test]
async fn hashtags_are_featured_counted_suggested_and_shown_to_anyone() {
    let server = TestServer::start().await;
    server.create_user("alice", PASSWORD).await;
    let alice = server.token("alice").await;
    for text in ["#rust one", "#rust two", "#cats only", "#secret"] {
        let visibility = if text == "#secret" {
            "private"
        } else {
            "public"
        };
        server
            .post_status(&alice, json!({"status": text, "visibility": visibility}))
            .await;
    }
    let (status, suggested) = server
        .get("/api/v1/featured_tags/suggestions", &alice)
        .await;
    assert_eq!(status, StatusCode::OK, "{suggested}");
    assert_eq!(suggested[0]["name"], "rust", "{suggested}");

    let (status, rust) = feature(&server, &alice, "#Rust").await;
    assert_eq!(status, StatusCode::OK, "{rust}");
    assert_eq!(rust["name"], "rust");
    assert_eq!(rust["statuses_count"], 2, "{rust}");
    assert!(rust["id"].is_string(), "{rust}");
    assert!(
        rust["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/@alice/tagged/rust")),
        "{rust}"
    );
    assert!(
        rust["last_status_at"]
            .as_str()
            .is_some_and(|d| d.len() == 10),
        "{rust}"
    );
    // A private post's tag counts for nothing.
    let (_, secret) = feature(&server, &alice, "secret").await;
    assert_eq!(secret["statuses_count"], 0, "{secret}");
    assert_eq!(secret["last_status_at"], Value::Null, "{secret}");
    let (status, again) = feature(&server, &alice, "rust").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{again}");
    let (status, bad) = feature(&server, &alice, "not a tag").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad["error"].is_string());
    for n in 0..8 {
        let (status, body) = feature(&server, &alice, &format!("tag{n}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, over) = feature(&server, &alice, "eleventh").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "at most ten: {over}"
    );

    // Suggestions leave out what is featured.
    let (_, suggested) = server
        .get("/api/v1/featured_tags/suggestions", &alice)
        .await;
    assert!(suggested[0]["id"].is_string(), "{suggested}");
    assert_eq!(
        suggested,
        json!([{
            "id": suggested[0]["id"],
            "name": "cats",
            "url": server.url("/tags/cats"),
            "history": [],
            "following": false,
            "featuring": false,
        }])
    );

    let alice_id = server.resolve(&alice, "alice").await;
    let shown = server
        .get_response(&format!("/api/v1/accounts/{alice_id}/featured_tags"))
        .await;
    assert_eq!(shown.status(), StatusCode::OK);
    let shown: Value = shown.json().await.expect("json");
    assert_eq!(shown.as_array().map(Vec::len), Some(10), "{shown}");
    assert_eq!(shown[0]["name"], "rust");

    let id = rust["id"].as_str().expect("id");
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/api/v1/featured_tags/{id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/api/v1/featured_tags/{id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, mine) = server.get("/api/v1/featured_tags", &alice).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(9), "{mine}");
}
