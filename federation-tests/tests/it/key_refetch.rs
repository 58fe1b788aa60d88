//! A signature that fails against a stored key makes the receiver refetch
//! the key once (it may have been rotated), not once per request: a flood
//! of forged signatures naming a known key costs the key's server one
//! fetch per interval, and the receiver one write.
//!
//! The key's server is a small fake on loopback that serves one actor with
//! a real key pair and counts how often it is fetched.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::header;
use axum::response::IntoResponse;
use perch_apub::signatures::SigningKey;
use perch_federation_tests::{Instance, PASSWORD, deliver};
use reqwest::StatusCode;
use serde_json::json;

/// Forged deliveries sent after the key is known.
const FORGERIES: usize = 20;

#[tokio::test]
async fn forged_signatures_refetch_a_known_key_once_per_interval() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let actor = format!("{base}/users/mallory");
    let key_id = format!("{actor}#main-key");
    let (public_pem, private_pem) = perch_core::keys::generate_actor_keys().expect("keys");
    let (_, forger_pem) = perch_core::keys::generate_actor_keys().expect("keys");
    let real_key = SigningKey::from_pem(key_id.clone(), &private_pem).expect("key");
    // Another private key, claiming the same key id.
    let forged_key = SigningKey::from_pem(key_id.clone(), &forger_pem).expect("key");
    let person = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor,
        "type": "Person",
        "preferredUsername": "mallory",
        "inbox": format!("{actor}/inbox"),
        "publicKey": { "id": key_id, "owner": actor, "publicKeyPem": public_pem },
    })
    .to_string();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = fetches.clone();
    let app = axum::Router::new().route(
        "/users/mallory",
        axum::routing::get(move || async move {
            counted.fetch_add(1, Ordering::SeqCst);
            (
                [(header::CONTENT_TYPE, "application/activity+json")],
                person,
            )
                .into_response()
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let inbox = url::Url::parse(&format!("{}/users/bob/inbox", b.base_url)).expect("url");
    let follow = |n: usize| {
        serde_json::to_vec(&json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{base}/follows/{n}"),
            "type": "Follow",
            "actor": actor,
            "object": format!("{}/users/bob", b.base_url),
        }))
        .expect("json")
    };

    // The first delivery makes the key known: one fetch.
    let status = deliver(&b.client, &real_key, &inbox, &follow(0)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    for n in 1..=FORGERIES {
        let status = deliver(&b.client, &forged_key, &inbox, &follow(n)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "forgery {n}");
    }
    // The first forgery refetched the key (it might have been rotated);
    // the others were refused with the key just fetched.
    assert_eq!(fetches.load(Ordering::SeqCst), 2);

    // The real key still works, from the database.
    let status = deliver(&b.client, &real_key, &inbox, &follow(FORGERIES + 1)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}
