//! The per-address rate limits behind a reverse proxy: a trusted proxy's
//! `X-Forwarded-For` names the client, so that each client behind it has
//! its own budget, and what a client writes into the header itself is not
//! believed; from a peer that is not trusted the header is ignored.

use perch_server::config::TrustedProxies;
use reqwest::StatusCode;
use serde_json::json;

use crate::oauth::{Client, register_app};
use crate::signup::app_token;
use crate::support::{TestApp, spawn_app_with};

const PASSWORD: &str = "correct horse battery staple";

/// A password-grant sign-in with a wrong password, as forwarded for
/// `client` (no header when `None`); the answer's status.
async fn sign_in_as(app: &TestApp, oauth: &Client, client: Option<&str>) -> StatusCode {
    let mut request = app.client.post(app.url("/oauth/token")).form(&[
        ("grant_type", "password"),
        ("client_id", oauth.id.as_str()),
        ("client_secret", oauth.secret.as_str()),
        ("username", "olga"),
        ("password", "not her password"),
    ]);
    if let Some(client) = client {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await.expect("sent").status()
}

/// The sign-in form of the authorization page, with a wrong password.
async fn sign_in_form_as(app: &TestApp, oauth: &Client, client: &str) -> StatusCode {
    app.client
        .post(app.url("/oauth/authorize"))
        .header("x-forwarded-for", client)
        .form(&[
            ("response_type", "code"),
            ("client_id", oauth.id.as_str()),
            ("redirect_uri", "https://client.example/callback"),
            ("scope", "read"),
            ("username", "olga"),
            ("password", "not her password"),
        ])
        .send()
        .await
        .expect("sent")
        .status()
}

async fn sign_up_as(app: &TestApp, token: &str, username: &str, client: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(token)
        .header("x-forwarded-for", client)
        .json(&json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": "a fine long password",
            "agreement": true,
            "locale": "en",
        }))
        .send()
        .await
        .expect("sent")
        .status()
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // The tests' requests come from 127.0.0.1, which is trusted by default:
    // this server sits behind a proxy on its own host.
    let app = spawn_app_with(|c| {
        c.sign_in_attempts_per_ip = 2;
        c.sign_ups_per_ip = 1;
    })
    .await;
    app.create_user("olga", PASSWORD).await;
    let oauth = register_app(&app, "read write").await;
    let first = Some("198.51.100.1");
    assert_eq!(
        sign_in_as(&app, &oauth, first).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        sign_in_as(&app, &oauth, first).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        sign_in_as(&app, &oauth, first).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The client's own entries on the left are not believed, and a second
    // trusted proxy on the right is looked past.
    for forged in ["203.0.113.9, 198.51.100.1", "198.51.100.1, 127.0.0.1"] {
        assert_eq!(
            sign_in_as(&app, &oauth, Some(forged)).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{forged}"
        );
    }
    // Another client behind the same proxy has its own budget, on the
    // sign-in form too; the proxy itself (no header) has its own.
    let second = Some("198.51.100.2");
    assert_eq!(
        sign_in_as(&app, &oauth, second).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        sign_in_form_as(&app, &oauth, "198.51.100.2").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in_form_as(&app, &oauth, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        sign_in_as(&app, &oauth, None).await,
        StatusCode::BAD_REQUEST
    );
    // Sign-ups count per forwarded client as well.
    let token = app_token(&app, &oauth, "write").await;
    let third = "198.51.100.3";
    assert_eq!(sign_up_as(&app, &token, "pia", third).await, StatusCode::OK);
    assert_eq!(
        sign_up_as(&app, &token, "quinn", third).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        sign_up_as(&app, &token, "quinn", "198.51.100.4").await,
        StatusCode::OK
    );

    // With no trusted proxy the header is ignored: every request is the
    // peer's, whatever it claims.
    let app = spawn_app_with(|c| {
        c.sign_in_attempts_per_ip = 2;
        c.trusted_proxies = TrustedProxies::none();
    })
    .await;
    app.create_user("olga", PASSWORD).await;
    let oauth = register_app(&app, "read").await;
    for (claimed, status) in [
        ("198.51.100.1", StatusCode::BAD_REQUEST),
        ("198.51.100.2", StatusCode::BAD_REQUEST),
        ("198.51.100.3", StatusCode::TOO_MANY_REQUESTS),
    ] {
        assert_eq!(
            sign_in_as(&app, &oauth, Some(claimed)).await,
            status,
            "{claimed}"
        );
    }
}
