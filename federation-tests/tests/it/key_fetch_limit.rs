//! Each unknown signing key costs the receiver a fetch of its owner, so a
//! server (or anyone naming keys on it) gets only so many unknown keys a
//! minute: past the limit a delivery is answered 429 with `Retry-After`,
//! before any fetch, and the sender may retry later. Other servers are not
//! held back by it.
//!
//! The keys' server is a small fake on loopback that serves any number of
//! actors, all with one real key pair, and counts its fetches.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use perch_apub::signatures::SigningKey;
use perch_federation_tests::{Instance, PASSWORD, signed_delivery};
use reqwest::StatusCode;
use serde_json::json;

/// The receiver's limit of unknown keys per server and minute.
const LIMIT: u32 = 5;

struct Keys {
    base: String,
    private_pem: String,
    fetches: Arc<AtomicUsize>,
}

impl Keys {
    /// Serve actors `/users/:name` on a fresh loopback port.
    async fn serve() -> Keys {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (public_pem, private_pem) = perch_core::keys::generate_actor_keys().expect("keys");
        let fetches = Arc::new(AtomicUsize::new(0));
        let counted = fetches.clone();
        let origin = base.clone();
        let app = axum::Router::new().route(
            "/users/{name}",
            axum::routing::get(move |Path(name): Path<String>| {
                counted.fetch_add(1, Ordering::SeqCst);
                let actor = format!("{origin}/users/{name}");
                let person = json!({
                    "@context": [
                        "https://www.w3.org/ns/activitystreams",
                        "https://w3id.org/security/v1",
                    ],
                    "id": actor,
                    "type": "Person",
                    "preferredUsername": name,
                    "inbox": format!("{actor}/inbox"),
                    "publicKey": {
                        "id": format!("{actor}#main-key"),
                        "owner": actor,
                        "publicKeyPem": public_pem,
                    },
                })
                .to_string();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/activity+json")],
                        person,
                    )
                        .into_response()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Keys {
            base,
            private_pem,
            fetches,
        }
    }

    fn actor(&self, n: usize) -> String {
        format!("{}/users/u{n}", self.base)
    }

    fn key(&self, n: usize) -> SigningKey {
        SigningKey::from_pem(format!("{}#main-key", self.actor(n)), &self.private_pem).expect("key")
    }

    /// Follow number `seq` of `target` by actor `n`.
    fn follow(&self, n: usize, seq: usize, target: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/follows/{seq}", self.base),
            "type": "Follow",
            "actor": self.actor(n),
            "object": target,
        }))
        .expect("json")
    }

    fn fetched(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// POST `body` to `inbox` signed by `key` now: the answer's status, its
/// `Retry-After` in seconds (if any) and its body.
async fn send(
    client: &reqwest::Client,
    key: &SigningKey,
    inbox: &url::Url,
    body: Vec<u8>,
) -> (StatusCode, Option<u64>, String) {
    let headers = signed_delivery(key, inbox, &body, std::time::SystemTime::now());
    let answer = client
        .post(inbox.clone())
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("sent");
    let retry_after = answer
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().expect("ascii").parse().expect("seconds"));
    (
        answer.status(),
        retry_after,
        answer.text().await.expect("body"),
    )
}

#[tokio::test]
async fn unknown_keys_from_one_server_are_fetched_only_so_often() {
    let (flooder, other) = (Keys::serve().await, Keys::serve().await);
    let b = Instance::start_with(|c| c.key_fetches_per_minute = LIMIT).await;
    b.create_user("bob", PASSWORD).await;
    let bob = format!("{}/users/bob", b.base_url);
    let inbox = url::Url::parse(&format!("{bob}/inbox")).expect("url");

    let limit = LIMIT as usize;
    for n in 0..limit {
        let answer = send(
            &b.client,
            &flooder.key(n),
            &inbox,
            flooder.follow(n, n, &bob),
        )
        .await;
        assert_eq!(answer.0, StatusCode::ACCEPTED, "actor {n}: {answer:?}");
    }
    assert_eq!(flooder.fetched(), limit);

    // One more unknown key from that server: refused, nothing fetched.
    let (status, retry_after, _) = send(
        &b.client,
        &flooder.key(limit),
        &inbox,
        flooder.follow(limit, limit, &bob),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after = retry_after.expect("Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(flooder.fetched(), limit, "no fetch past the limit");

    // Keys already known still work; so does another server.
    let answer = send(
        &b.client,
        &flooder.key(0),
        &inbox,
        flooder.follow(0, 100, &bob),
    )
    .await;
    assert_eq!(answer.0, StatusCode::ACCEPTED, "{answer:?}");
    let answer = send(&b.client, &other.key(0), &inbox, other.follow(0, 0, &bob)).await;
    assert_eq!(answer.0, StatusCode::ACCEPTED, "{answer:?}");
    assert_eq!((flooder.fetched(), other.fetched()), (limit, 1));
}
