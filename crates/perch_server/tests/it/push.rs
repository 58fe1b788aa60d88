//! Web Push end to end: an app subscribes its token with keys the test
//! made, a notification it wants is encrypted for them, signed with the
//! server's VAPID key and POSTed to a push endpoint on loopback, where the
//! test decrypts it (RFC 8291's `aes128gcm` and the older `aesgcm`, by an
//! implementation of its own) and reads Mastodon's payload; a 410 from the
//! endpoint ends the subscription.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey as SignatureKey};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use perch_server::testing::{PASSWORD, TestServer, drain};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A push service on loopback: keeps what it is sent and answers `status`.
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    status: Arc<AtomicU16>,
}

pub(crate) async fn endpoint() -> Endpoint {
    let received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>> = Arc::default();
    let status = Arc::new(AtomicU16::new(201));
    let (keep, answer) = (received.clone(), status.clone());
    let app = axum::Router::new().route(
        "/push/{id}",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (keep, answer) = (keep.clone(), answer.clone());
            async move {
                keep.lock().expect("lock").push((headers, body));
                AxumStatus::from_u16(answer.load(Ordering::SeqCst)).expect("status")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Endpoint {
        url: format!("http://{address}/push/1"),
        received,
        status,
    }
}

/// The browser's side: its key pair and auth secret.
pub(crate) struct Browser {
    private: PrivateKey,
    public: Vec<u8>,
    auth: [u8; 16],
}

pub(crate) fn browser() -> Browser {
    let private = PrivateKey::generate(&ECDH_P256).expect("key");
    let public = private
        .compute_public_key()
        .expect("public")
        .as_ref()
        .to_vec();
    let mut auth = [0u8; 16];
    aws_lc_rs::rand::fill(&mut auth).expect("random");
    Browser {
        private,
        public,
        auth,
    }
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[&[u8]], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    Salt::new(HKDF_SHA256, salt)
        .extract(ikm)
        .expand(info, Len(len))
        .expect("expand")
        .fill(&mut out)
        .expect("fill");
    out
}

fn open(key: &[u8], nonce: &[u8], sealed: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, key).expect("key"));
    let mut data = sealed.to_vec();
    let plain = key
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).expect("nonce"),
            Aad::empty(),
            &mut data,
        )
        .expect("the message opens with the browser's keys");
    plain.to_vec()
}

impl Browser {
    fn secret_with(&self, server_public: &[u8]) -> Vec<u8> {
        let theirs = UnparsedPublicKey::new(&ECDH_P256, server_public);
        agreement::agree(&self.private, theirs, (), |s| Ok(s.to_vec())).expect("agree")
    }

    /// RFC 8291: salt, record size, key id (the server's key), one record.
    fn decrypt_aes128gcm(&self, body: &[u8]) -> Value {
        let salt = &body[..16];
        let id_len = body[20] as usize;
        let server_public = &body[21..21 + id_len];
        let sealed = &body[21 + id_len..];
        let secret = self.secret_with(server_public);
        let info = [b"WebPush: info\0".as_slice(), &self.public, server_public].concat();
        let ikm = hkdf(&self.auth, &secret, &[&info], 32);
        let cek = hkdf(salt, &ikm, &[b"Content-Encoding: aes128gcm\0"], 16);
        let nonce = hkdf(salt, &ikm, &[b"Content-Encoding: nonce\0"], 12);
        let mut plain = open(&cek, &nonce, sealed);
        // Padding then the last record's delimiter.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "one final record");
        serde_json::from_slice(&plain).expect("a JSON payload")
    }

    /// The draft's `aesgcm`: salt in `Encryption`, the server's key in
    /// `Crypto-Key`.
    fn decrypt_aesgcm(&self, headers: &HeaderMap, body: &[u8]) -> Value {
        let param = |header: &str, name: &str| -> Vec<u8> {
            let value = headers[header].to_str().expect("ascii");
            let found = value
                .split([';', ','])
                .find_map(|part| part.trim().strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{header} has {name}: {value}"));
            URL_SAFE_NO_PAD.decode(found).expect("base64url")
        };
        let salt = param("encryption", "salt");
        let server_public = param("crypto-key", "dh");
        let secret = self.secret_with(&server_public);
        let ikm = hkdf(&self.auth, &secret, &[b"Content-Encoding: auth\0"], 32);
        let length = |key: &[u8]| (key.len() as u16).to_be_bytes();
        let context = [
            b"P-256\0".as_slice(),
            &length(&self.public),
            &self.public,
            &length(&server_public),
            &server_public,
        ]
        .concat();
        let cek = hkdf(&salt, &ikm, &[b"Content-Encoding: aesgcm\0", &context], 16);
        let nonce = hkdf(&salt, &ikm, &[b"Content-Encoding: nonce\0", &context], 12);
        let plain = open(&cek, &nonce, body);
        let padding = u16::from_be_bytes([plain[0], plain[1]]) as usize;
        serde_json::from_slice(&plain[2 + padding..]).expect("a JSON payload")
    }
}

/// The VAPID claim of a request, checked against the server's key: its
/// claims.
fn vapid_claims(jwt: &str, server_key: &str) -> Value {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let key = URL_SAFE_NO_PAD.decode(server_key).expect("server key");
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature");
    SignatureKey::new(&ECDSA_P256_SHA256_FIXED, &key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("signed with the server's VAPID key");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("claims")).expect("json")
}

pub(crate) async fn subscribe(
    server: &TestServer,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    server
        .send(Method::POST, "/api/v1/push/subscription", token, Some(body))
        .await
}

pub(crate) fn subscription(
    endpoint: &Endpoint,
    browser: &Browser,
    standard: bool,
    alerts: Value,
) -> Value {
    json!({
        "subscription": {
            "endpoint": endpoint.url,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(&browser.public),
                "auth": URL_SAFE_NO_PAD.encode(browser.auth),
            },
            "standard": standard,
        },
        "data": { "alerts": alerts, "policy": "all" },
    })
}

#[tokio::test]
async fn a_mention_is_pushed_encrypted_and_a_gone_endpoint_ends_the_subscription() {
    let server = TestServer::start().await;
    server.create_user("alice", PASSWORD).await;
    server.create_user("bob", PASSWORD).await;
    server.create_user("carol", PASSWORD).await;
    let alice = server.token_with_scopes("alice", "read write push").await;
    let bob = server.token("bob").await;
    let push = endpoint().await;
    let keys = browser();

    let (status, made) = subscribe(
        &server,
        &alice,
        subscription(
            &push,
            &keys,
            true,
            json!({"mention": true, "follow": false}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made["endpoint"], push.url.as_str());
    assert_eq!(made["standard"], true);
    assert_eq!(made["alerts"]["mention"], true, "{made}");
    assert_eq!(made["alerts"]["follow"], false, "{made}");
    assert_eq!(made["alerts"]["admin.sign_up"], false, "{made}");
    assert_eq!(made["policy"], "all");
    assert!(made["id"].is_string(), "{made}");
    let (_, instance) = server.get("/api/v2/instance", &alice).await;
    let server_key = instance["configuration"]["vapid"]["public_key"]
        .as_str()
        .expect("a VAPID key")
        .to_owned();
    assert_eq!(made["server_key"], server_key.as_str());
    assert_eq!(URL_SAFE_NO_PAD.decode(&server_key).expect("b64").len(), 65);
    let (status, shown) = server.get("/api/v1/push/subscription", &alice).await;
    assert_eq!((status, &shown["id"]), (StatusCode::OK, &made["id"]));

    // A follow is not wanted; a mention is, and arrives decryptable.
    let alice_id = server.resolve(&bob, "alice").await;
    let (status, _) = server
        .post(&format!("/api/v1/accounts/{alice_id}/follow"), &bob)
        .await;
    assert_eq!(status, StatusCode::OK);
    server
        .post_status(
            &bob,
            json!({"status": "@alice lunch at noon?", "visibility": "public"}),
        )
        .await;
    drain(&[&server]).await;
    let (headers, body) = {
        let got = push.received.lock().expect("lock");
        assert_eq!(got.len(), 1, "only the mention is pushed");
        got[0].clone()
    };
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert!(headers.contains_key("ttl"));
    let authorization = headers["authorization"].to_str().expect("ascii");
    let (jwt, key) = authorization
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .unwrap_or_else(|| panic!("{authorization}"));
    assert_eq!(key, server_key);
    let claims = vapid_claims(jwt, &server_key);
    assert_eq!(
        claims["aud"],
        push.url.trim_end_matches("/push/1"),
        "{claims}"
    );
    let payload = keys.decrypt_aes128gcm(&body);
    assert_eq!(payload["notification_type"], "mention", "{payload}");
    assert_eq!(payload["title"], "You were mentioned by bob", "{payload}");
    assert!(
        payload["body"]
            .as_str()
            .is_some_and(|b| b.contains("lunch at noon?")),
        "{payload}"
    );
    assert_eq!(payload["preferred_locale"], "en", "{payload}");
    // The token in it reads the notification.
    let token = payload["access_token"].as_str().expect("a token");
    let (status, list) = server.get("/api/v1/notifications", token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["id"], payload["notification_id"], "{list}");

    // The endpoint is gone: the subscription ends with the next push.
    push.status.store(410, Ordering::SeqCst);
    server
        .post_status(
            &bob,
            json!({"status": "@alice still there?", "visibility": "public"}),
        )
        .await;
    drain(&[&server]).await;
    assert_eq!(push.received.lock().expect("lock").len(), 2);
    let (status, _) = server.get("/api/v1/push/subscription", &alice).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(perch_db::push::pending(&server.db).await.expect("count"), 0);
}

#[tokio::test]
async fn the_older_aesgcm_encoding_and_the_alerts_a_subscription_changes_to() {
    let server = TestServer::start().await;
    server.create_user("alice", PASSWORD).await;
    server.create_user("bob", PASSWORD).await;
    let alice = server.token_with_scopes("alice", "read write push").await;
    let bob = server.token("bob").await;
    let push = endpoint().await;
    let keys = browser();
    let (status, made) = subscribe(
        &server,
        &alice,
        subscription(&push, &keys, false, json!({"mention": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made["standard"], false);
    // Favourites too, from now on.
    let (status, changed) = server
        .send(
            Method::PUT,
            "/api/v1/push/subscription",
            &alice,
            Some(json!({"data": {"alerts": {"favourite": true}}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["alerts"]["favourite"], true, "{changed}");
    assert_eq!(changed["alerts"]["mention"], true, "kept: {changed}");

    let status_id = server
        .post_status(
            &alice,
            json!({"status": "a thought", "visibility": "public"}),
        )
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = server
        .post(&format!("/api/v1/statuses/{status_id}/favourite"), &bob)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&server]).await;
    let (headers, body) = push.received.lock().expect("lock")[0].clone();
    assert_eq!(headers["content-encoding"], "aesgcm");
    let authorization = headers["authorization"].to_str().expect("ascii");
    let jwt = authorization
        .strip_prefix("WebPush ")
        .expect("WebPush scheme");
    let server_key = made["server_key"].as_str().expect("key");
    vapid_claims(jwt, server_key);
    assert!(
        headers["crypto-key"]
            .to_str()
            .expect("ascii")
            .contains(&format!("p256ecdsa={server_key}"))
    );
    let payload = keys.decrypt_aesgcm(&headers, &body);
    assert_eq!(payload["notification_type"], "favourite", "{payload}");
    assert_eq!(payload["body"], "a thought", "{payload}");

    // Unsubscribed: nothing more is pushed.
    let (status, _) = server
        .send(Method::DELETE, "/api/v1/push/subscription", &alice, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    server
        .post_status(&bob, json!({"status": "@alice hi", "visibility": "public"}))
        .await;
    drain(&[&server]).await;
    assert_eq!(push.received.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn a_subscription_needs_the_push_scope_an_endpoint_and_usable_keys() {
    let server = TestServer::start().await;
    server.create_user("alice", PASSWORD).await;
    let push = endpoint().await;
    let keys = browser();
    let without = server.token("alice").await;
    let (status, body) = subscribe(
        &server,
        &without,
        subscription(&push, &keys, true, json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let alice = server.token_with_scopes("alice", "push").await;
    let mut bad = subscription(&push, &keys, true, json!({}));
    bad["subscription"]["endpoint"] = json!("ftp://push.example/1");
    let (status, body) = subscribe(&server, &alice, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut bad = subscription(&push, &keys, true, json!({}));
    bad["subscription"]["keys"]["p256dh"] = json!("dG9vIHNob3J0");
    let (status, body) = subscribe(&server, &alice, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let mut bad = subscription(&push, &keys, true, json!({}));
    bad["data"]["policy"] = json!("friends");
    let (status, _) = subscribe(&server, &alice, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = server.get("/api/v1/push/subscription", &alice).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was kept");

    // Form parameters, as Mastodon's apps send them.
    let form = [
        ("subscription[endpoint]", push.url.clone()),
        (
            "subscription[keys][p256dh]",
            URL_SAFE_NO_PAD.encode(&keys.public),
        ),
        (
            "subscription[keys][auth]",
            URL_SAFE_NO_PAD.encode(keys.auth),
        ),
        ("data[alerts][follow]", "true".to_owned()),
        ("data[policy]", "followed".to_owned()),
    ];
    let response = server
        .client
        .post(server.url("/api/v1/push/subscription"))
        .bearer_auth(&alice)
        .form(&form)
        .send()
        .await
        .expect("sent");
    let status = response.status();
    let made: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made["alerts"]["follow"], true, "{made}");
    assert_eq!(made["policy"], "followed", "{made}");
    assert_eq!(made["standard"], false, "{made}");
}
