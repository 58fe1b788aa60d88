//! A slow server costs the inbox nothing: activities that make the
//! receiver fetch from a server that takes seconds to answer (a reply's
//! parent, a newly followed account's outbox) are answered at once, and
//! applied, with what they refer to, once the fetch completes.
//!
//! The slow server is a small fake on loopback with a real key pair: its
//! actor answers at once; the documents it is slow to serve are held until
//! the test releases them, which it does only after the receiver has asked
//! for them and then waited [`DELAY`] without applying anything.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::http::header;
use axum::response::IntoResponse;
use perch_apub::signatures::SigningKey;
use perch_db::follows::{self, Kind};
use perch_db::{actors, statuses};
use perch_federation_tests::{Instance, PASSWORD, deliver, drain};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::{Notify, Semaphore};

use crate::inbox::{post, setup};

/// How long the slow server holds a note or an outbox once asked.
const DELAY: Duration = Duration::from_secs(8);
/// How long anything else may take.
const DEADLINE: Duration = Duration::from_secs(60);
/// The inbox's answer must come well before the slow fetch could.
const PROMPT: Duration = Duration::from_secs(1);
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// The fake server: one actor, `slow`, with one post (`/notes/1`) that is
/// also the only item of its outbox.
struct SlowServer {
    base: String,
    actor: String,
    key: SigningKey,
    hold: Arc<Hold>,
}

/// The slow documents' gate: a request for one says it arrived, then
/// waits for a permit the test gives.
struct Hold {
    asked: Notify,
    released: Semaphore,
}

impl Hold {
    fn new() -> Hold {
        Hold {
            asked: Notify::new(),
            released: Semaphore::new(0),
        }
    }

    async fn pass(&self) {
        self.asked.notify_one();
        if let Ok(permit) = self.released.acquire().await {
            permit.forget();
        }
    }
}

impl SlowServer {
    async fn start() -> SlowServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let actor = format!("{base}/users/slow");
        let (public_pem, private_pem) = perch_core::keys::generate_actor_keys().expect("keys");
        let key = SigningKey::from_pem(format!("{actor}#main-key"), &private_pem).expect("key");
        let person = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Person",
            "preferredUsername": "slow",
            "inbox": format!("{actor}/inbox"),
            "outbox": format!("{actor}/outbox"),
            "followers": format!("{actor}/followers"),
            "publicKey": {
                "id": format!("{actor}#main-key"),
                "owner": actor,
                "publicKeyPem": public_pem,
            },
        });
        let note = Self::note(&base, &actor);
        let outbox = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{actor}/outbox"),
            "type": "OrderedCollection",
            "totalItems": 1,
            "orderedItems": [{
                "id": format!("{base}/notes/1/activity"),
                "type": "Create",
                "actor": actor,
                "to": [PUBLIC],
                "object": note,
            }],
        });
        let json_of = |value: Value| {
            (
                [(header::CONTENT_TYPE, "application/activity+json")],
                value.to_string(),
            )
                .into_response()
        };
        let hold = Arc::new(Hold::new());
        let (note_hold, outbox_hold) = (hold.clone(), hold.clone());
        let app = axum::Router::new()
            .route(
                "/users/slow",
                axum::routing::get(move || async move { json_of(person) }),
            )
            .route(
                "/notes/1",
                axum::routing::get(move || async move {
                    note_hold.pass().await;
                    json_of(note)
                }),
            )
            .route(
                "/users/slow/outbox",
                axum::routing::get(move || async move {
                    outbox_hold.pass().await;
                    json_of(outbox)
                }),
            )
            .route(
                "/users/slow/inbox",
                axum::routing::post(|| async { StatusCode::ACCEPTED }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await });
        SlowServer {
            base,
            actor,
            key,
            hold,
        }
    }

    /// Drain `instance`'s queues while this server holds its slow
    /// documents: once it has been asked for one, nothing is applied for
    /// [`DELAY`]; then it answers, and the drain completes.
    async fn drain_slowly(&self, instance: &Instance) {
        let instances = [instance];
        let draining = drain(&instances);
        tokio::pin!(draining);
        let asked = tokio::time::timeout(DEADLINE, async {
            tokio::select! {
                () = &mut draining => false,
                () = self.hold.asked.notified() => true,
            }
        })
        .await
        .expect("the slow server is asked within the deadline");
        assert!(asked, "the queues drained without the slow server's answer");
        assert!(
            tokio::time::timeout(DELAY, &mut draining).await.is_err(),
            "nothing completes while the slow server holds its answer"
        );
        self.hold.released.add_permits(Semaphore::MAX_PERMITS / 2);
        tokio::time::timeout(DEADLINE, draining)
            .await
            .expect("the queues drain once the slow server answers");
    }

    fn note(base: &str, actor: &str) -> Value {
        json!({
            "id": format!("{base}/notes/1"),
            "type": "Note",
            "attributedTo": actor,
            "content": "<p>the slow server's post</p>",
            "to": [PUBLIC],
            "cc": [format!("{actor}/followers")],
            "published": "2026-11-20T09:00:00Z",
        })
    }

    fn note_uri(&self) -> String {
        format!("{}/notes/1", self.base)
    }

    /// POST `activity`, signed by the slow actor, to `inbox`; the status
    /// and how long the answer took.
    async fn deliver(
        &self,
        to: &Instance,
        inbox: &str,
        activity: &Value,
    ) -> (StatusCode, Duration) {
        let inbox = url::Url::parse(inbox).expect("url");
        let body = serde_json::to_vec(activity).expect("json");
        let started = Instant::now();
        let status = deliver(&to.client, &self.key, &inbox, &body).await;
        (status, started.elapsed())
    }
}

#[tokio::test]
async fn a_reply_to_a_slow_server_is_answered_at_once_and_threaded_once_the_parent_arrives() {
    let setup = setup().await;
    let slow = SlowServer::start().await;
    // Alice (on A) answers the slow server's post, mentioning Bob (on B).
    let reply = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/reply-1", setup.a.base_url),
        "type": "Create",
        "actor": setup.alice_uri,
        "object": {
            "id": format!("{}/notes/reply-1", setup.a.base_url),
            "type": "Note",
            "attributedTo": setup.alice_uri,
            "inReplyTo": slow.note_uri(),
            "content": "<p>a reply</p>",
            "to": [PUBLIC],
            "cc": [setup.bob_uri],
            "tag": [{"type": "Mention", "href": setup.bob_uri}],
            "published": "2026-11-20T10:00:00Z",
        },
    });
    let body = serde_json::to_vec(&reply).expect("json");
    let headers = crate::inbox::signed(&setup, &body, SystemTime::now());
    let started = Instant::now();
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
    let answered_in = started.elapsed();
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(
        answered_in < PROMPT,
        "the inbox answered in {answered_in:?}, not at once"
    );
    let reply_uri = reply["object"]["id"].as_str().expect("id");
    assert!(
        statuses::find_by_uri(&setup.b.db, reply_uri)
            .await
            .expect("query")
            .is_none(),
        "nothing is applied inside the request"
    );

    // The worker fetches the parent (slowly) and stores both, threaded.
    slow.drain_slowly(&setup.b).await;
    let parent = statuses::find_by_uri(&setup.b.db, &slow.note_uri())
        .await
        .expect("query")
        .expect("the parent arrived");
    let stored = statuses::find_by_uri(&setup.b.db, reply_uri)
        .await
        .expect("query")
        .expect("the reply is stored");
    assert_eq!(stored.in_reply_to_id, Some(parent.id));
    let bob = setup.b.token("bob").await;
    let (status, context) = setup
        .b
        .get(&format!("/api/v1/statuses/{}/context", stored.id), &bob)
        .await;
    assert_eq!(status, StatusCode::OK, "{context}");
    assert_eq!(context["ancestors"][0]["id"], parent.id.to_string());
}

#[tokio::test]
async fn an_accept_from_a_slow_server_is_answered_at_once_and_its_outbox_read_later() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let slow = SlowServer::start().await;
    let token = b.token("bob").await;
    let slow_id = b.resolve(&token, &slow.actor).await;
    let (status, _) = b
        .post(&format!("/api/v1/accounts/{slow_id}/follow"), &token)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&b]).await;
    let bob_uri = format!("{}/users/bob", b.base_url);
    let bob = actors::find_by_uri(&b.db, &bob_uri)
        .await
        .expect("query")
        .expect("bob");
    let slow_row = actors::find_by_uri(&b.db, &slow.actor)
        .await
        .expect("query")
        .expect("the slow actor");
    let request = follows::find(&b.db, Kind::Request, bob.id, slow_row.id)
        .await
        .expect("query")
        .expect("a pending request");

    let accept = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/accept-1", slow.base),
        "type": "Accept",
        "actor": slow.actor,
        "object": {
            "id": request.uri,
            "type": "Follow",
            "actor": bob_uri,
            "object": slow.actor,
        },
    });
    let (status, answered_in) = slow.deliver(&b, &format!("{bob_uri}/inbox"), &accept).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(
        answered_in < PROMPT,
        "the inbox answered in {answered_in:?}, not at once"
    );

    // Applied by the worker: the follow stands, and the outbox (slow) is
    // read for the account's recent posts.
    slow.drain_slowly(&b).await;
    assert!(
        follows::find(&b.db, Kind::Follow, bob.id, slow_row.id)
            .await
            .expect("query")
            .is_some(),
        "the follow is accepted"
    );
    assert!(
        statuses::find_by_uri(&b.db, &slow.note_uri())
            .await
            .expect("query")
            .is_some(),
        "the outbox was read once it answered"
    );
    // Delivered again, the Accept changes nothing.
    let (status, _) = slow.deliver(&b, &format!("{bob_uri}/inbox"), &accept).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&[&b]).await;
    let stored = statuses::ids_by_account(&b.db, slow_row.id)
        .await
        .expect("query");
    assert_eq!(stored.len(), 1, "the post is stored once");
}

/// What the inbox can refuse without a fetch is refused in the request,
/// and nothing is queued.
#[tokio::test]
async fn a_forged_reply_is_refused_before_anything_is_fetched() {
    let setup = setup().await;
    let slow = SlowServer::start().await;
    // Signed by Alice, but the note claims the slow actor as its author.
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/forged-1", setup.a.base_url),
        "type": "Create",
        "actor": setup.alice_uri,
        "object": {
            "id": format!("{}/notes/forged-1", setup.a.base_url),
            "type": "Note",
            "attributedTo": slow.actor,
            "inReplyTo": slow.note_uri(),
            "content": "<p>not mine</p>",
            "to": [PUBLIC],
        },
    });
    let body = serde_json::to_vec(&forged).expect("json");
    let headers = crate::inbox::signed(&setup, &body, SystemTime::now());
    let started = Instant::now();
    assert_eq!(post(&setup, headers, body).await, StatusCode::FORBIDDEN);
    assert!(started.elapsed() < PROMPT);
    assert_eq!(
        perch_db::inbound::pending_count(&setup.b.db)
            .await
            .expect("count"),
        0
    );
}
