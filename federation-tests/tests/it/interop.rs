//! What other servers send, through the real inbox: each fixture of
//! crates/perch_apub/fixtures is served (actors) or delivered (activities)
//! by a fake of its server on loopback, with the fixture's ids moved to the
//! fake's origin and a real key put into its actor's `publicKey`, and
//! signed with that key. The receiver fetches the actor to verify the
//! signature as it would from the real server, then applies the activity.
//!
//! Here, actors of every type and shape become usable (their key found,
//! their avatar, header and shared inbox stored); `interop_activities`
//! delivers the activities.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode as AxumStatus, Uri, header};
use axum::response::IntoResponse;
use perch_apub::signatures::SigningKey;
use perch_db::actors;
use perch_federation_tests::{Instance, PASSWORD, drain, signed_delivery};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The fixtures' stand-in for this server.
const PERCH_ORIGIN: &str = "https://perch.example";

/// A fake of one fixture server on 127.0.0.1: serves the documents put in
/// it, and takes what is posted to any inbox.
pub(crate) struct Peer {
    /// `http://127.0.0.1:port`.
    pub(crate) base: String,
    /// The fixtures' origin it stands for, such as `https://peertube.example`.
    origin: String,
    /// The receiving instance's base URL, for `https://perch.example`.
    perch: String,
    public_pem: String,
    private_pem: String,
    documents: Arc<Mutex<HashMap<String, Value>>>,
}

fn fixture_text(path: &str) -> String {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/perch_apub/fixtures")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The path and query of a URL, as the fake serves it.
fn local_part(url: &str) -> String {
    let url = url::Url::parse(url).expect("a URL");
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

impl Peer {
    /// A fake of `origin`'s server, for deliveries to `perch`.
    pub(crate) async fn serve(origin: &str, perch: &Instance) -> Peer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (public_pem, private_pem) = perch_core::keys::generate_actor_keys().expect("keys");
        let documents: Arc<Mutex<HashMap<String, Value>>> = Arc::default();
        let served = documents.clone();
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
            let served = served.clone();
            async move {
                // Deliveries to its inboxes (an Accept, a Follow) are taken.
                if method == Method::POST {
                    return AxumStatus::ACCEPTED.into_response();
                }
                let key = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
                match served.lock().expect("lock").get(&key) {
                    Some(document) => (
                        [(header::CONTENT_TYPE, "application/activity+json")],
                        document.to_string(),
                    )
                        .into_response(),
                    None => AxumStatus::NOT_FOUND.into_response(),
                }
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Peer {
            base,
            origin: origin.to_owned(),
            perch: perch.base_url.clone(),
            public_pem,
            private_pem,
            documents,
        }
    }

    /// The fixture at `path`, with its server's origin moved here and
    /// `https://perch.example` moved to the receiving instance.
    pub(crate) fn fixture(&self, path: &str) -> Value {
        let text = fixture_text(path)
            .replace(&self.origin, &self.base)
            .replace(PERCH_ORIGIN, &self.perch);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Serve `document` under its own id.
    pub(crate) fn put(&self, document: &Value) {
        let id = document["id"].as_str().expect("an id");
        self.put_at(id, document);
    }

    pub(crate) fn put_at(&self, url: &str, document: &Value) {
        self.documents
            .lock()
            .expect("lock")
            .insert(local_part(url), document.clone());
    }

    /// Serve the actor fixture at `path` with this peer's key in its
    /// `publicKey` (an object or the first of a list); the actor document.
    pub(crate) fn actor(&self, path: &str) -> Value {
        let mut actor = self.fixture(path);
        match &mut actor["publicKey"] {
            Value::Array(keys) => keys[0]["publicKeyPem"] = json!(self.public_pem),
            key => key["publicKeyPem"] = json!(self.public_pem),
        }
        self.put(&actor);
        actor
    }

    /// Serve at `actor`'s key id, a URL of its own (GoToSocial's
    /// `…/main-key`), the minimal actor GoToSocial serves there: id, type,
    /// username and key.
    pub(crate) fn serve_key_document(&self, actor: &Value) {
        let stub = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor["id"],
            "type": actor["type"],
            "preferredUsername": actor["preferredUsername"],
            "publicKey": actor["publicKey"],
        });
        self.put_at(actor["publicKey"]["id"].as_str().expect("key id"), &stub);
    }

    /// The key `actor` signs with.
    pub(crate) fn key(&self, actor: &Value) -> SigningKey {
        let key = match &actor["publicKey"] {
            Value::Array(keys) => &keys[0],
            key => key,
        };
        let id = key["id"].as_str().expect("a key id");
        SigningKey::from_pem(id.to_owned(), &self.private_pem).expect("key")
    }

    /// Deliver `activity` to `to`'s shared inbox signed by `actor`'s key,
    /// and apply what was accepted; the answer's status.
    pub(crate) async fn send(&self, to: &Instance, actor: &Value, activity: &Value) -> StatusCode {
        let inbox = url::Url::parse(&to.url("/inbox")).expect("url");
        let body = serde_json::to_vec(activity).expect("json");
        let headers = signed_delivery(
            &self.key(actor),
            &inbox,
            &body,
            std::time::SystemTime::now(),
        );
        let status = to
            .client
            .post(inbox)
            .headers(headers)
            .body(body)
            .send()
            .await
            .expect("sent")
            .status();
        if status == StatusCode::ACCEPTED {
            drain(&[to]).await;
        }
        status
    }

    /// `username` on `on` follows `actor`, and the actor accepts (an
    /// Accept naming the pair, as servers that keep no ids send it).
    pub(crate) async fn followed_by(&self, on: &Instance, username: &str, actor: &Value) {
        let token = on.token(username).await;
        let actor_id = actor["id"].as_str().expect("id");
        let id = account_id(on, &token, actor_id).await;
        let (status, body) = on
            .post(&format!("/api/v1/accounts/{id}/follow"), &token)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        drain(&[on]).await;
        let accept = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!(
                "{}/accepts/{}-{username}",
                self.base,
                actor["preferredUsername"].as_str().unwrap_or_default()
            ),
            "type": "Accept",
            "actor": actor_id,
            "object": {
                "type": "Follow",
                "actor": on.url(&format!("/users/{username}")),
                "object": actor_id,
            },
        });
        assert_eq!(self.send(on, actor, &accept).await, StatusCode::ACCEPTED);
        let relationship = perch_federation_tests::relationship(on, &token, &id).await;
        assert_eq!(relationship["following"], true, "{relationship}");
    }
}

/// The local id of the account with actor id `uri`, resolved by the
/// holder of `token` as a client would (a search by URL).
pub(crate) async fn account_id(on: &Instance, token: &str, uri: &str) -> String {
    let body: Value = on
        .client
        .get(on.url("/api/v2/search"))
        .bearer_auth(token)
        .query(&[("q", uri), ("resolve", "true"), ("type", "accounts")])
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    body["accounts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{uri} did not resolve: {body}"))
        .to_owned()
}

/// A Follow of `target` by `actor`: any actor may send one, so it is how
/// an actor first makes itself known here.
fn follow(peer: &Peer, actor: &Value, target: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/1", peer.base),
        "type": "Follow",
        "actor": actor["id"],
        "object": target,
    })
}

/// (fixture origin, actor fixture, expected type)
const ACTORS: &[(&str, &str, &str)] = &[
    (
        "https://mastodon.example",
        "mastodon/actor_person.json",
        "Person",
    ),
    (
        "https://gts.example",
        "gotosocial/actor_person.json",
        "Person",
    ),
    (
        "https://misskey.example",
        "misskey/actor_service.json",
        "Service",
    ),
    (
        "https://pleroma.example",
        "pleroma/actor_person.json",
        "Person",
    ),
    ("https://lemmy.example", "lemmy/actor_group.json", "Group"),
    (
        "https://peertube.example",
        "peertube/actor_account.json",
        "Person",
    ),
    (
        "https://peertube.example",
        "peertube/actor_channel.json",
        "Group",
    ),
    (
        "https://pixelfed.example",
        "pixelfed/actor_person.json",
        "Person",
    ),
    (
        "https://friendica.example",
        "friendica/actor_person.json",
        "Person",
    ),
    (
        "https://blog.example",
        "wordpress/actor_person.json",
        "Person",
    ),
    (
        "https://blog.example",
        "wordpress/actor_application.json",
        "Application",
    ),
    ("https://mitra.example", "mitra/actor_person.json", "Person"),
    (
        "https://funkwhale.example",
        "funkwhale/actor_person.json",
        "Person",
    ),
    (
        "https://mobilizon.example",
        "mobilizon/actor_person.json",
        "Person",
    ),
    (
        "https://org.example",
        "activitypub/actor_organization_endpoints_link.json",
        "Organization",
    ),
];

#[tokio::test]
async fn actors_of_every_server_and_type_are_found_and_stored() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let bob = b.url("/users/bob");
    for (origin, path, kind) in ACTORS {
        let peer = Peer::serve(origin, &b).await;
        let actor = peer.actor(path);
        if path.starts_with("gotosocial/") {
            peer.serve_key_document(&actor);
        }
        let status = peer.send(&b, &actor, &follow(&peer, &actor, &bob)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{path}");
        let uri = actor["id"].as_str().expect("id");
        let row = actors::find_by_uri(&b.db, uri)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("{path}: the actor is stored"));
        assert_eq!(&row.actor_type, kind, "{path}");
        assert!(
            row.avatar_url
                .as_deref()
                .is_some_and(|a| a.starts_with("http")),
            "{path}: {:?}",
            row.avatar_url
        );
        // The Follow was applied: the actor is a follower of bob's.
        let token = b.token("bob").await;
        let id = account_id(&b, &token, uri).await;
        let relationship = perch_federation_tests::relationship(&b, &token, &id).await;
        assert_eq!(relationship["followed_by"], true, "{path}: {relationship}");
    }
}

#[tokio::test]
async fn peertube_pictures_and_endpoints_given_as_a_link() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let bob = b.url("/users/bob");

    let peertube = Peer::serve("https://peertube.example", &b).await;
    let channel = peertube.actor("peertube/actor_channel.json");
    let status = peertube
        .send(&b, &channel, &follow(&peertube, &channel, &bob))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "the channel's key is found");
    let row = actors::find_by_uri(&b.db, channel["id"].as_str().expect("id"))
        .await
        .expect("query")
        .expect("stored");
    let base = &peertube.base;
    assert_eq!(
        row.avatar_url,
        Some(format!("{base}/lazy-static/avatars/channel-600.png")),
        "the largest of the sizes"
    );
    assert_eq!(
        row.header_url,
        Some(format!("{base}/lazy-static/banners/channel-1920.jpg"))
    );
    assert_eq!(row.shared_inbox_url, Some(format!("{base}/inbox")));

    let org = Peer::serve("https://org.example", &b).await;
    let council = org.actor("activitypub/actor_organization_endpoints_link.json");
    let status = org.send(&b, &council, &follow(&org, &council, &bob)).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "endpoints as a link is no error"
    );
    let row = actors::find_by_uri(&b.db, council["id"].as_str().expect("id"))
        .await
        .expect("query")
        .expect("stored");
    assert_eq!(row.shared_inbox_url, None);
    assert_eq!(
        row.outbox_url,
        Some(format!("{}/actors/council/outbox", org.base))
    );
    assert_eq!(
        row.header_url,
        Some(format!("{}/banners/council.jpg", org.base))
    );
}

#[tokio::test]
async fn an_actor_without_an_inbox_stays_unusable() {
    // Lenient about shape, not about what an actor cannot do without:
    // its activities are refused as unverifiable.
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let peer = Peer::serve("https://mastodon.example", &b).await;
    let mut actor = peer.actor("mastodon/actor_person.json");
    actor.as_object_mut().expect("object").remove("inbox");
    peer.put(&actor);
    let status = peer
        .send(&b, &actor, &follow(&peer, &actor, &b.url("/users/bob")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // And a key that is not the actor's is still not accepted.
    let mut stolen = peer.actor("mastodon/actor_person.json");
    stolen["publicKey"]["owner"] = json!(format!("{}/users/mallory", peer.base));
    peer.put(&stolen);
    let status = peer
        .send(&b, &stolen, &follow(&peer, &stolen, &b.url("/users/bob")))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_key_document_proves_nothing_by_itself() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let bob = b.url("/users/bob");
    let peer = Peer::serve("https://gts.example", &b).await;
    let elsewhere = Peer::serve("https://other.example", &b).await;

    // The document at the key's URL names an owner on another server.
    let dan = peer.actor("gotosocial/actor_person.json");
    let mut stub = dan.clone();
    stub["id"] = json!(format!("{}/users/dan", elsewhere.base));
    peer.put_at(dan["publicKey"]["id"].as_str().expect("key id"), &stub);
    let status = peer.send(&b, &dan, &follow(&peer, &dan, &bob)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an owner on another server"
    );

    // It names an owner here whose own document names another key.
    let peer = Peer::serve("https://gts.example", &b).await;
    let dan = peer.actor("gotosocial/actor_person.json");
    peer.serve_key_document(&dan);
    let mut owner = dan.clone();
    owner["publicKey"]["id"] = json!(format!("{}/users/dan/other-key", peer.base));
    peer.put(&owner);
    let status = peer.send(&b, &dan, &follow(&peer, &dan, &bob)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the owner disowns the key"
    );
    assert!(
        actors::key_by_id(&b.db, dan["publicKey"]["id"].as_str().expect("key id"))
            .await
            .expect("query")
            .is_none()
    );
}
