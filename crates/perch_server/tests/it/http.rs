//! The HTTP skeleton: health, metrics, errors, and Mastodon clients'
//! expectations of every response.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::support::spawn_app;

const JSON_UTF8: &str = "application/json; charset=utf-8";

#[tokio::test]
async fn health_answers_ok_while_the_database_answers() {
    let app = spawn_app().await;
    let response = app.get_response("/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], JSON_UTF8);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");

    // Closing marks the pool closed at once; waiting for every connection
    // to come back is bounded, as a worker may hold one in a query.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), app.db.close()).await;
    let response = app.get_response("/health").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "unavailable");
}

#[tokio::test]
async fn unknown_paths_get_mastodons_error_entity() {
    let app = spawn_app().await;
    let response = app.get_response("/api/v1/no/such/thing").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()[CONTENT_TYPE], JSON_UTF8);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, serde_json::json!({ "error": "Record not found" }));
}

#[tokio::test]
async fn a_trailing_slash_names_the_same_path() {
    let app = spawn_app().await;
    let response = app.get_response("/health/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app.get_response("/health").await;
    let generated = response.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "client-chosen-id")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.headers()["x-request-id"], "client-chosen-id");
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = spawn_app().await;
    assert_eq!(app.get_response("/health").await.status(), StatusCode::OK);
    let response = app.get_response("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("text");
    assert!(
        text.lines()
            .any(|l| l.starts_with("perch_http_requests_total{")
                && l.contains("route=\"/health\"")
                && l.contains("status=\"200\"")),
        "{text}"
    );
    assert!(
        text.contains("perch_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains("perch_build_info{version=\""), "{text}");
}

#[tokio::test]
async fn shutdown_finishes_cleanly_and_stops_listening() {
    let app = spawn_app().await;
    let address = app.address;
    assert_eq!(app.get_response("/health").await.status(), StatusCode::OK);
    app.shutdown().await.expect("clean shutdown");
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}
