//! Cross-origin requests, as browsers make them for web clients served
//! from another origin: the API, the token endpoints and discovery are
//! open to every origin; the authorisation page is not.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::statuses::{post_status, user};
use crate::support::spawn_app;

const ORIGIN: &str = "https://elk.example";

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn names(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

#[tokio::test]
async fn the_api_answers_preflights_and_requests_from_any_origin() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    for n in 0..3 {
        post_status(&app, &ann.token, json!({"status": format!("post {n}")})).await;
    }

    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/timelines/home"))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .expect("sent");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(header(&preflight, "access-control-allow-origin"), Some("*"));
    let methods = names(header(&preflight, "access-control-allow-methods"));
    for method in ["get", "post", "put", "patch", "delete"] {
        assert!(methods.iter().any(|m| m == method), "{methods:?}");
    }
    let allowed = names(header(&preflight, "access-control-allow-headers"));
    for name in ["authorization", "content-type", "idempotency-key"] {
        assert!(allowed.iter().any(|h| h == name), "{allowed:?}");
    }
    assert_eq!(
        header(&preflight, "access-control-allow-credentials"),
        None,
        "tokens, not cookies"
    );

    let response = app
        .client
        .get(app.url("/api/v1/timelines/home?limit=2"))
        .header("Origin", ORIGIN)
        .bearer_auth(&ann.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    let exposed = names(header(&response, "access-control-expose-headers"));
    for name in [
        "link",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(exposed.iter().any(|h| h == name), "{exposed:?}");
    }
    assert!(header(&response, "link").is_some_and(|l| l.contains("rel=\"next\"")));

    // Errors are readable too, or the client could not tell why.
    let refused = app
        .client
        .get(app.url("/api/v1/timelines/home/"))
        .header("Origin", ORIGIN)
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&refused, "access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn tokens_and_discovery_are_open_and_the_authorisation_page_is_not() {
    let app = spawn_app().await;
    for (path, method) in [
        ("/oauth/token", "POST"),
        ("/oauth/revoke", "POST"),
        ("/.well-known/nodeinfo", "GET"),
        ("/nodeinfo/2.0", "GET"),
        ("/api/v1/apps", "POST"),
    ] {
        let preflight = app
            .client
            .request(Method::OPTIONS, app.url(path))
            .header("Origin", ORIGIN)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", "content-type")
            .send()
            .await
            .expect("sent");
        assert!(preflight.status().is_success(), "{path}");
        assert_eq!(
            header(&preflight, "access-control-allow-origin"),
            Some("*"),
            "{path}"
        );
    }
    let nodeinfo = app
        .client
        .get(app.url("/.well-known/nodeinfo"))
        .header("Origin", ORIGIN)
        .send()
        .await
        .expect("sent");
    assert_eq!(nodeinfo.status(), StatusCode::OK);
    assert_eq!(header(&nodeinfo, "access-control-allow-origin"), Some("*"));

    let page = app
        .client
        .get(app.url("/oauth/authorize?client_id=x&redirect_uri=urn:ietf:wg:oauth:2.0:oob&response_type=code"))
        .header("Origin", ORIGIN)
        .send()
        .await
        .expect("sent");
    assert_eq!(header(&page, "access-control-allow-origin"), None);
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/oauth/authorize"))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .expect("sent");
    assert_eq!(header(&preflight, "access-control-allow-origin"), None);
    assert_eq!(header(&preflight, "access-control-allow-methods"), None);
}
