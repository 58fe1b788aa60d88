//! The inbox refuses, and stores nothing of, activities that fail a check:
//! a bad signature, a key not the actor's, a stale date, a digest that does
//! not match, an id on another host. A replayed activity id is applied once.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderValue, header};
use perch_apub::signatures::SigningKey;
use perch_db::actors;
use perch_db::follows::{self, Kind};
use perch_federation_tests::{Instance, PASSWORD, deliver, drain, signed_delivery};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) struct Setup {
    pub(crate) a: Instance,
    pub(crate) b: Instance,
    pub(crate) alice_key: SigningKey,
    pub(crate) alice_uri: String,
    pub(crate) carol_uri: String,
    pub(crate) bob_uri: String,
    pub(crate) inbox: url::Url,
}

/// A knows alice and carol; B knows both of them (fetched through search)
/// and has bob.
pub(crate) async fn setup() -> Setup {
    let (a, b) = (Instance::start().await, Instance::start().await);
    let alice_id = a.create_user("alice", PASSWORD).await;
    a.create_user("carol", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let bob_token = b.token("bob").await;
    b.resolve(&bob_token, &format!("alice@{}", a.domain)).await;
    b.resolve(&bob_token, &format!("carol@{}", a.domain)).await;
    let key = actors::key_of_account(&a.db, alice_id)
        .await
        .expect("query")
        .expect("key");
    let alice_key =
        SigningKey::from_pem(key.key_id, &key.private_key_pem.expect("private key")).expect("key");
    Setup {
        alice_uri: format!("{}/users/alice", a.base_url),
        carol_uri: format!("{}/users/carol", a.base_url),
        bob_uri: format!("{}/users/bob", b.base_url),
        inbox: url::Url::parse(&format!("{}/users/bob/inbox", b.base_url)).expect("url"),
        alice_key,
        a,
        b,
    }
}

fn follow(setup: &Setup, id: &str, actor: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "Follow",
        "actor": actor,
        "object": setup.bob_uri,
    })
}

pub(crate) fn signed(setup: &Setup, body: &[u8], at: SystemTime) -> HeaderMap {
    signed_delivery(&setup.alice_key, &setup.inbox, body, at)
}

/// Post to bob's inbox on B; what B accepted is applied (its inbound queue
/// drained) before this returns.
pub(crate) async fn post(setup: &Setup, headers: HeaderMap, body: Vec<u8>) -> StatusCode {
    let status = setup
        .b
        .client
        .post(setup.inbox.clone())
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("sent")
        .status();
    if status == StatusCode::ACCEPTED {
        drain(&[&setup.b]).await;
    }
    status
}

/// Whether B has any follow or request from `follower_uri` to bob.
async fn follows_bob(setup: &Setup, follower_uri: &str) -> bool {
    let db = &setup.b.db;
    let follower = actors::find_by_uri(db, follower_uri)
        .await
        .expect("query")
        .expect("known");
    let bob = actors::find_by_uri(db, &setup.bob_uri)
        .await
        .expect("query")
        .expect("bob");
    follows::find(db, Kind::Follow, follower.id, bob.id)
        .await
        .expect("query")
        .is_some()
        || follows::find(db, Kind::Request, follower.id, bob.id)
            .await
            .expect("query")
            .is_some()
}

#[tokio::test]
async fn forged_or_tampered_activities_are_refused_and_nothing_is_stored() {
    let setup = setup().await;
    let id = |n: &str| format!("{}/activities/{n}", setup.a.base_url);

    // A bad signature: one byte of it changed.
    let body = serde_json::to_vec(&follow(&setup, &id("1"), &setup.alice_uri)).expect("json");
    let mut headers = signed(&setup, &body, SystemTime::now());
    let original = headers[header::HeaderName::from_static("signature")]
        .to_str()
        .expect("ascii")
        .to_owned();
    let at = original.find("signature=\"").expect("signature param") + "signature=\"".len() + 10;
    let mut tampered = original.clone().into_bytes();
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    headers.insert(
        "signature",
        HeaderValue::from_bytes(&tampered).expect("header"),
    );
    assert_eq!(
        post(&setup, headers, body).await,
        StatusCode::UNAUTHORIZED,
        "bad signature"
    );

    // Signed by alice's key, claiming to be carol.
    let body = serde_json::to_vec(&follow(&setup, &id("2"), &setup.carol_uri)).expect("json");
    let headers = signed(&setup, &body, SystemTime::now());
    assert_eq!(
        post(&setup, headers, body).await,
        StatusCode::UNAUTHORIZED,
        "key owner is not the actor"
    );
    assert!(!follows_bob(&setup, &setup.carol_uri).await);

    // A date thirteen hours old.
    let body = serde_json::to_vec(&follow(&setup, &id("3"), &setup.alice_uri)).expect("json");
    let stale = SystemTime::now() - Duration::from_secs(13 * 3600);
    let headers = signed(&setup, &body, stale);
    assert_eq!(
        post(&setup, headers, body).await,
        StatusCode::UNAUTHORIZED,
        "stale date"
    );

    // The body changed after signing (same length, so only the digest tells).
    let body = serde_json::to_vec(&follow(&setup, &id("4"), &setup.alice_uri)).expect("json");
    let headers = signed(&setup, &body, SystemTime::now());
    let other = serde_json::to_vec(&follow(&setup, &id("5"), &setup.alice_uri)).expect("json");
    assert_eq!(other.len(), body.len());
    assert_eq!(
        post(&setup, headers, other).await,
        StatusCode::UNAUTHORIZED,
        "digest mismatch"
    );

    // A validly signed activity whose id is on another server.
    let body = serde_json::to_vec(&follow(
        &setup,
        "https://elsewhere.example/follows/6",
        &setup.alice_uri,
    ))
    .expect("json");
    let headers = signed(&setup, &body, SystemTime::now());
    assert_eq!(
        post(&setup, headers, body).await,
        StatusCode::FORBIDDEN,
        "id on another host"
    );

    // No signature at all; malformed JSON.
    let body = serde_json::to_vec(&follow(&setup, &id("7"), &setup.alice_uri)).expect("json");
    let mut unsigned = HeaderMap::new();
    unsigned.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/activity+json"),
    );
    assert_eq!(
        post(&setup, unsigned, body).await,
        StatusCode::UNAUTHORIZED,
        "unsigned"
    );
    let garbage = b"{not json".to_vec();
    let headers = signed(&setup, &garbage, SystemTime::now());
    assert_eq!(
        post(&setup, headers, garbage).await,
        StatusCode::BAD_REQUEST,
        "malformed"
    );

    assert!(
        !follows_bob(&setup, &setup.alice_uri).await,
        "nothing of the refused activities was stored"
    );

    // An oversized body is refused before anything else.
    let huge = vec![b' '; 300 * 1024];
    let headers = signed(&setup, &huge, SystemTime::now());
    assert_eq!(
        post(&setup, headers, huge).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn a_replayed_activity_is_applied_once() {
    let setup = setup().await;
    let follow_id = format!("{}/activities/replayed", setup.a.base_url);
    let body = serde_json::to_vec(&follow(&setup, &follow_id, &setup.alice_uri)).expect("json");

    let headers = signed(&setup, &body, SystemTime::now());
    assert_eq!(
        post(&setup, headers, body.clone()).await,
        StatusCode::ACCEPTED
    );
    assert!(follows_bob(&setup, &setup.alice_uri).await);

    // Alice undoes the follow…
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{follow_id}/undo"),
        "type": "Undo",
        "actor": setup.alice_uri,
        "object": follow(&setup, &follow_id, &setup.alice_uri),
    });
    let undo = serde_json::to_vec(&undo).expect("json");
    let headers = signed(&setup, &undo, SystemTime::now());
    assert_eq!(post(&setup, headers, undo).await, StatusCode::ACCEPTED);
    assert!(!follows_bob(&setup, &setup.alice_uri).await);

    // …and the original Follow, replayed (freshly signed), changes nothing.
    let headers = signed(&setup, &body, SystemTime::now());
    assert_eq!(
        post(&setup, headers, body).await,
        StatusCode::ACCEPTED,
        "acknowledged"
    );
    assert!(
        !follows_bob(&setup, &setup.alice_uri).await,
        "but not applied again"
    );
    let bob = setup.b.token("bob").await;
    let (_, me) = setup
        .b
        .get("/api/v1/accounts/verify_credentials", &bob)
        .await;
    assert_eq!(me["followers_count"], 0);
}

/// A Delete from an actor whose server answers 410 for it: acknowledged
/// with a single fetch, no loop; anything else from such an actor is
/// refused.
#[tokio::test]
async fn a_delete_from_a_gone_actor_is_acknowledged_without_a_fetch_loop() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let gone = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            StatusCode::GONE
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, gone).await });

    let ghost = format!("{origin}/users/ghost");
    let (_, private_pem) = perch_core::keys::generate_actor_keys().expect("keys");
    let key = SigningKey::from_pem(format!("{ghost}#main-key"), &private_pem).expect("key");
    let inbox = url::Url::parse(&format!("{}/inbox", b.base_url)).expect("url");
    let send = |activity: Value| {
        let (key, inbox, client) = (&key, &inbox, &b.client);
        async move {
            let body = serde_json::to_vec(&activity).expect("json");
            deliver(client, key, inbox, &body).await
        }
    };

    let delete = json!({
        "id": format!("{ghost}#delete"),
        "type": "Delete",
        "actor": ghost,
        "object": ghost,
    });
    let status = send(delete).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "one fetch of the gone key, no loop"
    );

    let follow = json!({
        "id": format!("{origin}/follows/1"),
        "type": "Follow",
        "actor": ghost,
        "object": format!("{}/users/bob", b.base_url),
    });
    let status = send(follow).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a gone actor cannot follow"
    );
}

#[tokio::test]
async fn a_delivery_signed_for_another_host_is_refused() {
    let setup = setup().await;
    let body = serde_json::to_vec(&follow(
        &setup,
        &format!("{}/activities/elsewhere", setup.a.base_url),
        &setup.alice_uri,
    ))
    .expect("json");
    // Signed for another server's inbox (its Host), then replayed here with
    // the same headers while the date is fresh.
    let elsewhere = url::Url::parse("http://other.example:8443/users/bob/inbox").expect("url");
    let headers = signed_delivery(&setup.alice_key, &elsewhere, &body, SystemTime::now());
    assert_eq!(
        headers.get(header::HOST).and_then(|h| h.to_str().ok()),
        Some("other.example:8443"),
        "the signed Host is sent as it was signed"
    );
    assert_eq!(post(&setup, headers, body).await, StatusCode::UNAUTHORIZED);
    assert!(!follows_bob(&setup, &setup.alice_uri).await);
}

#[tokio::test]
async fn an_actor_served_through_a_redirect_from_another_host_is_refused() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    // The attacker's server serves an actor whose id names the victim's
    // host; the victim's server redirects (an open redirect) to it.
    let attacker = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let attacker_base = format!("http://{}", attacker.local_addr().expect("address"));
    let victim = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let victim_base = format!("http://{}", victim.local_addr().expect("address"));
    let planted = format!("{victim_base}/go");
    let (public_pem, private_pem) = perch_core::keys::generate_actor_keys().expect("keys");
    let person = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": planted,
        "type": "Person",
        "preferredUsername": "victim",
        "inbox": format!("{planted}/inbox"),
        "publicKey": {"id": format!("{planted}#main-key"), "owner": planted, "publicKeyPem": public_pem},
    });
    let served = axum::Router::new().fallback(move || {
        let person = person.clone();
        async move {
            (
                [(header::CONTENT_TYPE, "application/activity+json")],
                person.to_string(),
            )
        }
    });
    tokio::spawn(async move { axum::serve(attacker, served).await });
    let target = format!("{attacker_base}/doc");
    let redirect = axum::Router::new().fallback(move || {
        let target = target.clone();
        async move { axum::response::Redirect::temporary(&target) }
    });
    tokio::spawn(async move { axum::serve(victim, redirect).await });

    let key = SigningKey::from_pem(format!("{planted}#main-key"), &private_pem).expect("key");
    let inbox = url::Url::parse(&format!("{}/users/bob/inbox", b.base_url)).expect("url");
    let activity = json!({
        "id": format!("{victim_base}/follows/1"),
        "type": "Follow",
        "actor": planted,
        "object": format!("{}/users/bob", b.base_url),
    });
    let body = serde_json::to_vec(&activity).expect("json");
    let status = deliver(&b.client, &key, &inbox, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        actors::find_by_uri(&b.db, &planted)
            .await
            .expect("query")
            .is_none(),
        "no actor is stored under the victim's host"
    );
}
