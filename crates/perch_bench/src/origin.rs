//! The fake origin: another server's actors, served from this process on a
//! loopback port, so the server under test can fetch their keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

const ACTIVITY_JSON: &str = "application/activity+json";

/// What the origin serves.
pub struct Origin {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base: String,
    actors: usize,
    /// Public keys (SPKI PEM), assigned to actors round-robin.
    public_pems: Vec<String>,
    /// Actor documents served.
    pub actor_fetches: AtomicU64,
    /// Any other document served (collections).
    pub other_fetches: AtomicU64,
}

impl Origin {
    pub fn actor_uri(&self, n: usize) -> String {
        format!("{}/users/a{n}", self.base)
    }

    pub fn key_id(&self, n: usize) -> String {
        format!("{}/users/a{n}#main-key", self.base)
    }

    pub fn followers_uri(&self, n: usize) -> String {
        format!("{}/users/a{n}/followers", self.base)
    }

    fn actor_document(&self, n: usize) -> Value {
        let id = self.actor_uri(n);
        json!({
            "@context": [
                "https://www.w3.org/ns/activitystreams",
                "https://w3id.org/security/v1"
            ],
            "id": id,
            "type": "Person",
            "preferredUsername": format!("a{n}"),
            "name": format!("Bench actor {n}"),
            "summary": "",
            "url": id,
            "inbox": format!("{id}/inbox"),
            "outbox": format!("{id}/outbox"),
            "followers": format!("{id}/followers"),
            "following": format!("{id}/following"),
            "endpoints": { "sharedInbox": format!("{}/inbox", self.base) },
            "manuallyApprovesFollowers": false,
            "discoverable": false,
            "publicKey": {
                "id": self.key_id(n),
                "owner": id,
                "publicKeyPem": self.public_pems[n % self.public_pems.len()],
            },
        })
    }
}

/// Starts the origin on 127.0.0.1 (any free port) with `actors` actors.
pub async fn start(actors: usize, public_pems: Vec<String>) -> anyhow::Result<Arc<Origin>> {
    anyhow::ensure!(!public_pems.is_empty(), "the origin needs at least one key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let origin = Arc::new(Origin {
        base: format!("http://127.0.0.1:{port}"),
        actors,
        public_pems,
        actor_fetches: AtomicU64::new(0),
        other_fetches: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/users/{name}", get(actor))
        .route("/users/{name}/{collection}", get(collection))
        .with_state(origin.clone());
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("fake origin stopped: {error}");
        }
    });
    Ok(origin)
}

fn actor_number(origin: &Origin, name: &str) -> Option<usize> {
    name.strip_prefix('a')
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n < origin.actors)
}

fn activity_json(body: Value) -> Response {
    ([(header::CONTENT_TYPE, ACTIVITY_JSON)], body.to_string()).into_response()
}

async fn actor(State(origin): State<Arc<Origin>>, Path(name): Path<String>) -> Response {
    match actor_number(&origin, &name) {
        Some(n) => {
            origin.actor_fetches.fetch_add(1, Ordering::Relaxed);
            activity_json(origin.actor_document(n))
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Outbox, followers and following: empty collections.
async fn collection(
    State(origin): State<Arc<Origin>>,
    Path((name, collection)): Path<(String, String)>,
) -> Response {
    let known = matches!(collection.as_str(), "outbox" | "followers" | "following");
    match actor_number(&origin, &name) {
        Some(n) if known => {
            origin.other_fetches.fetch_add(1, Ordering::Relaxed);
            let id = format!("{}/{collection}", origin.actor_uri(n));
            activity_json(json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": id,
                "type": "OrderedCollection",
                "totalItems": 0,
                "orderedItems": [],
            }))
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
