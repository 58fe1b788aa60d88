//! HTTP signatures on the wire: Perch instances deliver to each other with
//! RFC 9421; a server that accepts only draft-cavage (a fake on loopback
//! that answers 401 to RFC 9421 and verifies what it accepts) gets a
//! second knock the first time and draft-cavage at once afterwards, as
//! remembered in the database, and a server that stops accepting the
//! remembered scheme gets the other; and RFC 9421 deliveries that fail a
//! check are refused by a real inbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, header};
use axum::response::IntoResponse;
use perch_apub::signatures::{self, DateWindow, SigningKey, VerifyingKey, sign_message};
use perch_db::signature_schemes;
use perch_federation_tests::{Instance, PASSWORD, deliver, drain, follow_across};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

/// A remote actor served by a fake server on loopback, with a real key.
struct FakeActor {
    id: String,
    key: SigningKey,
    document: String,
}

fn fake_actor(base: &str, name: &str) -> FakeActor {
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
    FakeActor {
        id,
        key: SigningKey::from_pem(key_id, &private_pem).expect("key"),
        document,
    }
}

async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    (listener, base)
}

/// Serves `actor`'s document (to anyone, as a server without authorized
/// fetch does).
fn serve(listener: tokio::net::TcpListener, actor: &FakeActor) {
    let document = actor.document.clone();
    let path = Url::parse(&actor.id).expect("url").path().to_owned();
    let app = axum::Router::new().route(
        &path,
        axum::routing::get(move || async move {
            (
                [(header::CONTENT_TYPE, "application/activity+json")],
                document,
            )
                .into_response()
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
}

#[tokio::test]
async fn perch_instances_deliver_to_each_other_with_rfc_9421() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let bob = b.token("bob").await;
    follow_across(&a, &alice, &format!("@bob@{}", b.domain), &[&a, &b]).await;

    b.post_status(&bob, json!({"status": "signed with RFC 9421"}))
        .await;
    drain(&[&a, &b]).await;
    let (_, home) = a.get("/api/v1/timelines/home", &alice).await;
    assert!(
        home.as_array()
            .is_some_and(|h| h.iter().any(|s| s["content"]
                .as_str()
                .is_some_and(|c| c.contains("signed with RFC 9421")))),
        "{home}"
    );
    // Each accepted the other's first, RFC 9421, signature (the Follow,
    // then the Accept and the Create): nothing was sent twice.
    for (from, to) in [(&a, &b), (&b, &a)] {
        assert_eq!(
            signature_schemes::find(&from.db, &to.domain)
                .await
                .expect("read")
                .as_deref(),
            Some("rfc9421"),
            "{} → {}",
            from.domain,
            to.domain
        );
    }
}

/// The fake inbox: what it saw (the scheme of each delivery and its
/// answer), and whether it accepts RFC 9421 for now.
/// With `verifies_fetches`, the actor document is served only to
/// draft-cavage signatures too (authorized fetch), and its fetches are
/// seen as well.
#[derive(Clone, Default)]
struct FakeInbox {
    seen: Arc<Mutex<Vec<(&'static str, u16)>>>,
    accepts_9421: Arc<AtomicBool>,
    verifies_fetches: Arc<AtomicBool>,
    fetches: Arc<Mutex<Vec<(&'static str, u16)>>>,
    document: Arc<std::sync::OnceLock<String>>,
}

impl FakeInbox {
    fn seen(&self) -> Vec<(&'static str, u16)> {
        self.seen.lock().expect("lock").clone()
    }

    fn fetches(&self) -> Vec<(&'static str, u16)> {
        self.fetches.lock().expect("lock").clone()
    }
}

/// Carol's actor document, for anyone or (with `verifies_fetches`) for
/// draft-cavage signatures only.
async fn fake_actor_document(
    State(inbox): State<FakeInbox>,
    headers: HeaderMap,
) -> axum::response::Response {
    let document = inbox.document.get().cloned().unwrap_or_default();
    let served = (
        [(header::CONTENT_TYPE, "application/activity+json")],
        document,
    );
    if !inbox.verifies_fetches.load(Ordering::SeqCst) {
        return served.into_response();
    }
    let (scheme, status) = match signatures::parse_inbound(&headers) {
        Ok(sig) if sig.scheme() == signatures::Scheme::Cavage => {
            let key = signer_key(sig.key_id()).await;
            let request = signatures::RequestParts {
                method: &Method::GET,
                scheme: "http",
                path_and_query: "/users/carol",
                headers: &headers,
                body: None,
            };
            let verified = signatures::verify_inbound(
                &sig,
                &key,
                &request,
                SystemTime::now(),
                &DateWindow::default(),
            );
            match verified {
                Ok(()) => ("cavage", StatusCode::OK),
                Err(_) => ("cavage", StatusCode::UNAUTHORIZED),
            }
        }
        Ok(_) => ("rfc9421", StatusCode::UNAUTHORIZED),
        Err(_) => ("unsigned", StatusCode::UNAUTHORIZED),
    };
    inbox
        .fetches
        .lock()
        .expect("lock")
        .push((scheme, status.as_u16()));
    if status == StatusCode::OK {
        served.into_response()
    } else {
        status.into_response()
    }
}

/// An inbox that verifies signatures with the signer's key, fetched from
/// its server, and answers 401 to RFC 9421 unless told to accept it.
async fn fake_inbox(
    State(inbox): State<FakeInbox>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let request = signatures::RequestParts {
        method: &Method::POST,
        scheme: "http",
        path_and_query: "/users/carol/inbox",
        headers: &headers,
        body: Some(&body),
    };
    let (scheme, status) = match signatures::parse_inbound(&headers) {
        Ok(sig)
            if sig.scheme() == signatures::Scheme::Rfc9421
                && !inbox.accepts_9421.load(Ordering::SeqCst) =>
        {
            ("rfc9421", StatusCode::UNAUTHORIZED)
        }
        Ok(sig) => {
            let key = signer_key(sig.key_id()).await;
            let verified = signatures::verify_inbound(
                &sig,
                &key,
                &request,
                SystemTime::now(),
                &DateWindow::default(),
            );
            let scheme = match sig.scheme() {
                signatures::Scheme::Rfc9421 => "rfc9421",
                signatures::Scheme::Cavage => "cavage",
            };
            match verified {
                Ok(()) => (scheme, StatusCode::ACCEPTED),
                Err(_) => (scheme, StatusCode::UNAUTHORIZED),
            }
        }
        Err(_) => ("unreadable", StatusCode::UNAUTHORIZED),
    };
    inbox
        .seen
        .lock()
        .expect("lock")
        .push((scheme, status.as_u16()));
    status
}

/// The key `key_id` names, from its owner's document on its server.
async fn signer_key(key_id: &str) -> VerifyingKey {
    let mut owner = Url::parse(key_id).expect("key id");
    owner.set_fragment(None);
    let actor: Value = reqwest::Client::new()
        .get(owner)
        .header(header::ACCEPT, "application/activity+json")
        .send()
        .await
        .expect("the signer's actor")
        .json()
        .await
        .expect("json");
    VerifyingKey::from_pem(actor["publicKey"]["publicKeyPem"].as_str().expect("pem")).expect("key")
}

/// Alice on `a` is followed by Carol, an actor of a fake server whose
/// inbox is `inbox`; returns the fake's host.
async fn followed_by_carol(a: &Instance, inbox: &FakeInbox) -> String {
    let (listener, base) = bind().await;
    let carol = fake_actor(&base, "carol");
    let _ = inbox.document.set(carol.document.clone());
    let router = axum::Router::new()
        .route("/users/carol", axum::routing::get(fake_actor_document))
        .route("/users/carol/inbox", axum::routing::post(fake_inbox))
        .with_state(inbox.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{base}/follows/1"),
        "type": "Follow",
        "actor": carol.id,
        "object": format!("{}/users/alice", a.base_url),
    });
    let alice_inbox = Url::parse(&a.url("/users/alice/inbox")).expect("url");
    let body = serde_json::to_vec(&follow).expect("json");
    assert_eq!(
        deliver(&a.client, &carol.key, &alice_inbox, &body).await,
        StatusCode::ACCEPTED
    );
    base.trim_start_matches("http://").to_owned()
}

async fn remembered(instance: &Instance, host: &str) -> Option<String> {
    signature_schemes::find(&instance.db, host)
        .await
        .expect("read")
}

#[tokio::test]
async fn a_cavage_only_server_is_knocked_twice_once_then_sent_cavage() {
    let a = Instance::start().await;
    a.create_user("alice", PASSWORD).await;
    let alice = a.token("alice").await;
    let inbox = FakeInbox::default();
    let fake_host = followed_by_carol(&a, &inbox).await;
    // Alice's Accept is the first delivery there.
    drain(&[&a]).await;
    assert_eq!(
        inbox.seen(),
        vec![("rfc9421", 401), ("cavage", 202)],
        "RFC 9421 first, then draft-cavage"
    );
    assert_eq!(remembered(&a, &fake_host).await.as_deref(), Some("cavage"));

    // The next delivery goes straight to draft-cavage.
    a.post_status(&alice, json!({"status": "to my followers"}))
        .await;
    drain(&[&a]).await;
    assert_eq!(
        inbox.seen(),
        vec![("rfc9421", 401), ("cavage", 202), ("cavage", 202)]
    );
}

#[tokio::test]
async fn a_server_refusing_its_remembered_scheme_gets_the_other() {
    let a = Instance::start().await;
    a.create_user("alice", PASSWORD).await;
    let alice = a.token("alice").await;
    let inbox = FakeInbox::default();
    inbox.accepts_9421.store(true, Ordering::SeqCst);
    let fake_host = followed_by_carol(&a, &inbox).await;
    drain(&[&a]).await;
    assert_eq!(inbox.seen(), vec![("rfc9421", 202)]);
    assert_eq!(remembered(&a, &fake_host).await.as_deref(), Some("rfc9421"));

    // The server stops accepting RFC 9421 (a downgrade, another front).
    inbox.accepts_9421.store(false, Ordering::SeqCst);
    a.post_status(&alice, json!({"status": "to my followers"}))
        .await;
    drain(&[&a]).await;
    assert_eq!(
        inbox.seen(),
        vec![("rfc9421", 202), ("rfc9421", 401), ("cavage", 202)]
    );
    assert_eq!(remembered(&a, &fake_host).await.as_deref(), Some("cavage"));
}

#[tokio::test]
async fn a_fetch_refused_with_rfc_9421_is_signed_again_with_cavage() {
    let a = Instance::start().await;
    a.create_user("alice", PASSWORD).await;
    let inbox = FakeInbox::default();
    inbox.verifies_fetches.store(true, Ordering::SeqCst);
    // Carol's Follow makes Alice's server fetch her key: refused with
    // RFC 9421, served with draft-cavage, which is remembered.
    let fake_host = followed_by_carol(&a, &inbox).await;
    assert_eq!(inbox.fetches(), vec![("rfc9421", 401), ("cavage", 200)]);
    assert_eq!(remembered(&a, &fake_host).await.as_deref(), Some("cavage"));
    // So the Accept goes with draft-cavage at once.
    drain(&[&a]).await;
    assert_eq!(inbox.seen(), vec![("cavage", 202)]);
}

/// Sends `body` to `send_to`, signed with RFC 9421 by `key` at `at` for
/// `signed_for` (whose digest covers `signed_body`), with `host` as the
/// `Host` header. Returns the answer's status and error message.
#[allow(clippy::too_many_arguments)] // one request's parts, spelled out
async fn send_9421(
    client: &reqwest::Client,
    key: &SigningKey,
    signed_for: &Url,
    send_to: &Url,
    host: &str,
    signed_body: &[u8],
    body: &[u8],
    at: SystemTime,
) -> (StatusCode, String) {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        "application/activity+json".parse().expect("value"),
    );
    sign_message(
        key,
        &Method::POST,
        signed_for,
        &mut headers,
        Some(signed_body),
        at,
    )
    .expect("signs");
    headers.insert(header::HOST, host.parse().expect("host"));
    let response = client
        .post(send_to.clone())
        .headers(headers)
        .body(body.to_vec())
        .send()
        .await
        .expect("sent");
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or_default();
    (
        status,
        answer["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn rfc_9421_deliveries_failing_a_check_are_refused() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let bob = b.token("bob").await;
    let (listener, base) = bind().await;
    let mallory = fake_actor(&base, "mallory");
    serve(listener, &mallory);
    let (other_listener, other_base) = bind().await;
    let eve = fake_actor(&other_base, "eve");
    serve(other_listener, &eve);

    let inbox = Url::parse(&b.url("/users/bob/inbox")).expect("url");
    let follow = |n: u32| {
        serde_json::to_vec(&json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{base}/follows/{n}"),
            "type": "Follow",
            "actor": mallory.id,
            "object": format!("{}/users/bob", b.base_url),
        }))
        .expect("json")
    };
    let now = SystemTime::now();
    let other_inbox = Url::parse("http://other.example/users/bob/inbox").expect("url");
    let refused = [
        (
            "a body other than the digested one",
            "the digest does not match the body",
            send_9421(
                &b.client,
                &mallory.key,
                &inbox,
                &inbox,
                &b.domain,
                &follow(1),
                &follow(2),
                now,
            )
            .await,
        ),
        (
            "created 13 hours ago",
            "signed too long ago",
            send_9421(
                &b.client,
                &mallory.key,
                &inbox,
                &inbox,
                &b.domain,
                &follow(3),
                &follow(3),
                now - Duration::from_secs(13 * 3600),
            )
            .await,
        ),
        (
            "signed for another server's @target-uri",
            "signature does not verify with the key",
            send_9421(
                &b.client,
                &mallory.key,
                &other_inbox,
                &inbox,
                &b.domain,
                &follow(4),
                &follow(4),
                now,
            )
            .await,
        ),
        (
            "replayed with that server's authority",
            "signed for another host",
            send_9421(
                &b.client,
                &mallory.key,
                &other_inbox,
                &inbox,
                "other.example",
                &follow(5),
                &follow(5),
                now,
            )
            .await,
        ),
        (
            "signed with a key of another origin",
            "does not belong to the activity's actor",
            send_9421(
                &b.client,
                &eve.key,
                &inbox,
                &inbox,
                &b.domain,
                &follow(6),
                &follow(6),
                now,
            )
            .await,
        ),
    ];
    for (case, why, (status, error)) in refused {
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {error}");
        assert!(error.contains(why), "{case}: {error}");
    }
    // The same delivery, signed as it should be, is accepted.
    assert_eq!(
        send_9421(
            &b.client,
            &mallory.key,
            &inbox,
            &inbox,
            &b.domain,
            &follow(7),
            &follow(7),
            now
        )
        .await
        .0,
        StatusCode::ACCEPTED
    );
    drain(&[&b]).await;
    let (status, me) = b.get("/api/v1/accounts/verify_credentials", &bob).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me["followers_count"], 1,
        "only the well-signed Follow was applied: {me}"
    );
}
