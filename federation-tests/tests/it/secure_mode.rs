//! Secure mode (authorized fetch): actors, objects and collections are
//! served only to signed requests, in either scheme, from servers not
//! blocked; the instance actor, WebFinger and NodeInfo stay open; and two
//! instances both in secure mode still follow and deliver to each other.

use std::time::SystemTime;

use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::IntoResponse;
use perch_apub::signatures::{Scheme, SigningKey, sign_with};
use perch_federation_tests::{Instance, PASSWORD, drain, follow_across, texts};
use perch_server::testing::Role;
use reqwest::StatusCode;
use serde_json::json;
use url::Url;

const AP_ACCEPT: &str = "application/activity+json";

async fn secure_instance() -> Instance {
    Instance::start_with(|config| config.secure_mode = true).await
}

/// A remote actor with a real key, served by a fake server on loopback;
/// returns its key and its server's host.
async fn remote_signer(name: &str) -> (SigningKey, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let id = format!("{base}/users/{name}");
    let key_id = format!("{id}#main-key");
    let (public_pem, private_pem) = perch_core::keys::generate_actor_keys().expect("keys");
    let document = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": id,
        "type": "Person",
        "preferredUsername": name,
        "inbox": format!("{id}/inbox"),
        "publicKey": { "id": key_id, "owner": id, "publicKeyPem": public_pem },
    })
    .to_string();
    let app = axum::Router::new().route(
        &format!("/users/{name}"),
        axum::routing::get(move || async move {
            ([(header::CONTENT_TYPE, AP_ACCEPT)], document).into_response()
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        SigningKey::from_pem(key_id, &private_pem).expect("key"),
        base.trim_start_matches("http://").to_owned(),
    )
}

/// GETs `url` asking for ActivityPub JSON, signed by `key` in `scheme`
/// when given.
async fn get(
    client: &reqwest::Client,
    url: &str,
    signed: Option<(&SigningKey, Scheme)>,
) -> StatusCode {
    let url = Url::parse(url).expect("url");
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static(AP_ACCEPT));
    if let Some((key, scheme)) = signed {
        sign_with(
            scheme,
            key,
            &Method::GET,
            &url,
            &mut headers,
            None,
            SystemTime::now(),
        )
        .expect("signs");
    }
    client
        .get(url)
        .headers(headers)
        .send()
        .await
        .expect("sent")
        .status()
}

#[tokio::test]
async fn documents_are_served_only_to_signed_requests_of_servers_not_blocked() {
    let a = secure_instance().await;
    a.create_user("alice", PASSWORD).await;
    a.create_with_role("ada", PASSWORD, Role::Admin).await;
    let alice = a.token("alice").await;
    let status = a
        .post_status(&alice, json!({"status": "for signed eyes"}))
        .await;
    let note = status["uri"].as_str().expect("uri").to_owned();
    let documents = [
        a.url("/users/alice"),
        a.url("/users/alice/outbox"),
        a.url("/users/alice/followers"),
        a.url("/users/alice/following"),
        a.url("/users/alice/collections/featured"),
        note.clone(),
        format!("{note}/activity"),
    ];
    for url in &documents {
        assert_eq!(
            get(&a.client, url, None).await,
            StatusCode::UNAUTHORIZED,
            "{url} unsigned"
        );
    }
    // What another server needs in order to sign stays open.
    for path in [
        "/actor",
        "/.well-known/nodeinfo",
        "/nodeinfo/2.1",
        &format!("/.well-known/webfinger?resource=acct:alice@{}", a.domain),
    ] {
        assert_eq!(
            get(&a.client, &a.url(path), None).await,
            StatusCode::OK,
            "{path}"
        );
    }
    // A browser is still sent to the profile page.
    let page = a
        .client
        .get(a.url("/users/alice"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .expect("sent");
    assert!(page.status().is_redirection(), "{}", page.status());

    let (mallory, mallory_host) = remote_signer("mallory").await;
    for scheme in [Scheme::Rfc9421, Scheme::Cavage] {
        for url in &documents {
            assert_eq!(
                get(&a.client, url, Some((&mallory, scheme))).await,
                StatusCode::OK,
                "{url} signed with {scheme:?}"
            );
        }
    }

    // Signed by a server the instance blocks: refused.
    let ada = a
        .token_with_scopes("ada", "read write admin:read admin:write")
        .await;
    let blocked = a
        .client
        .post(a.url("/api/v1/admin/domain_blocks"))
        .bearer_auth(&ada)
        .json(&json!({"domain": mallory_host, "severity": "suspend"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(blocked.status(), StatusCode::OK);
    assert_eq!(
        get(
            &a.client,
            &a.url("/users/alice"),
            Some((&mallory, Scheme::Rfc9421))
        )
        .await,
        StatusCode::FORBIDDEN
    );
    // A signature for another server is no pass either.
    let (eve, _) = remote_signer("eve").await;
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static(AP_ACCEPT));
    let elsewhere = Url::parse("http://other.example/users/alice").expect("url");
    sign_with(
        Scheme::Rfc9421,
        &eve,
        &Method::GET,
        &elsewhere,
        &mut headers,
        None,
        SystemTime::now(),
    )
    .expect("signs");
    let replayed = a
        .client
        .get(a.url("/users/alice"))
        .headers(headers)
        .send()
        .await
        .expect("sent");
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn two_instances_in_secure_mode_follow_and_deliver_to_each_other() {
    let (a, b) = (secure_instance().await, secure_instance().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let bob = b.token("bob").await;
    follow_across(&a, &alice, &format!("@bob@{}", b.domain), &[&a, &b]).await;

    b.post_status(&bob, json!({"status": "secure to secure"}))
        .await;
    drain(&[&a, &b]).await;
    assert!(
        texts(&a, &alice, "/api/v1/timelines/home")
            .await
            .iter()
            .any(|t| t.contains("secure to secure"))
    );
}
