//! `/api/v1/instance` and `/api/v2/instance`, as client libraries read them.

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::support::spawn_app;

#[tokio::test]
async fn instance_documents_identify_a_recent_mastodon() {
    let app = spawn_app().await;
    app.create_user("ophelia", "a long enough password").await;
    let domain = app.base_url.trim_start_matches("http://").to_owned();

    for path in ["/api/v1/instance", "/api/v1/instance/"] {
        let response = app.get_response(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
        let v1: Value = response.json().await.expect("json");
        assert_eq!(v1["uri"], domain);
        assert_eq!(v1["title"], "Perch test");
        assert_eq!(v1["email"], "admin@perch.test");
        assert!(
            v1["version"]
                .as_str()
                .expect("version")
                .starts_with("4.3.0 (compatible; Perch ")
        );
        assert_eq!(v1["urls"]["streaming_api"], format!("ws://{domain}"));
        assert_eq!(v1["stats"]["user_count"], 1);
        assert_eq!(v1["registrations"], true);
        assert!(v1["configuration"]["statuses"]["max_characters"].is_u64());
    }

    let v2: Value = app
        .get_response("/api/v2/instance")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v2["domain"], domain);
    assert!(v2["api_versions"]["mastodon"].is_u64());
    assert_eq!(
        v2["configuration"]["urls"]["streaming"],
        format!("ws://{domain}")
    );
    assert_eq!(v2["registrations"]["enabled"], true);
    assert_eq!(v2["registrations"]["approval_required"], false);
    assert_eq!(v2["contact"]["email"], "admin@perch.test");
}
