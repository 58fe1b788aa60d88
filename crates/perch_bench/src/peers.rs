//! Many fake remote servers in this process: each is its own listener on
//! `127.0.0.1` (so its own authority, `127.0.0.1:PORT`, which the server
//! under test treats as a separate host), serving Person actors with public
//! keys and inboxes that count what is delivered to them.
//!
//! Servers come in groups (`healthy`, `slow`…) of the same shape: actors
//! per server, whether actors name a shared inbox, and how long the
//! inboxes take to answer. Every POST to an inbox is tallied by group and
//! activity type: requests, requests carrying an HTTP `Signature` header
//! (its presence and shape are checked, not the signature itself, so the
//! generator spends no CPU the server under test could use), distinct
//! inboxes, and when the first and the last arrived.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

const ACTIVITY_JSON: &str = "application/activity+json";

/// The shape of a group of servers.
#[derive(Clone, Debug)]
pub struct GroupSpec {
    pub servers: usize,
    pub actors_per_server: usize,
    /// Actors name `endpoints.sharedInbox` (their server's `/inbox`).
    pub shared_inbox: bool,
    /// How long every inbox of the group holds a delivery before answering
    /// 202.
    pub answer_delay: Duration,
}

/// One remote actor, as the generator needs it.
#[derive(Clone, Debug)]
pub struct RemoteActor {
    pub uri: String,
    pub key_id: String,
    /// Which of the generated key pairs it uses.
    pub key: usize,
}

struct Group {
    spec: GroupSpec,
    /// Switchable between runs that share the fleet (the fan-out's two
    /// variants): read whenever an actor document is served.
    shared_inbox: AtomicBool,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

struct PeerServer {
    group: usize,
    /// Its place in its group, which numbers the group's actors.
    index: usize,
    base: String,
}

/// What arrived at a group's inboxes for one activity type.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub requests: u64,
    /// Requests whose `Signature` header names a keyId and a signature.
    pub signed: u64,
    pub inboxes: HashSet<String>,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
}

/// Every fake server.
pub struct Fleet {
    groups: Vec<Group>,
    servers: Vec<PeerServer>,
    public_pems: Vec<String>,
    tallies: Mutex<HashMap<(usize, String), Tally>>,
    /// Actor documents served.
    pub actor_fetches: AtomicU64,
    /// Inbox requests that were not JSON with a `type`.
    pub malformed: AtomicU64,
}

/// Per listener: the fleet and which server it is.
#[derive(Clone)]
struct Peer {
    fleet: Arc<Fleet>,
    server: usize,
}

/// The part of an activity the inboxes look at.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
}

impl Fleet {
    /// Starts every server of every group, each on its own free port.
    pub async fn start(
        specs: &[GroupSpec],
        public_pems: Vec<String>,
    ) -> anyhow::Result<Arc<Fleet>> {
        anyhow::ensure!(!public_pems.is_empty(), "the fleet needs at least one key");
        let mut listeners = Vec::new();
        let mut servers = Vec::new();
        for (group, spec) in specs.iter().enumerate() {
            anyhow::ensure!(
                spec.servers > 0 && spec.actors_per_server > 0,
                "empty group"
            );
            for index in 0..spec.servers {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let port = listener.local_addr()?.port();
                servers.push(PeerServer {
                    group,
                    index,
                    base: format!("http://127.0.0.1:{port}"),
                });
                listeners.push(listener);
            }
        }
        let fleet = Arc::new(Fleet {
            groups: specs
                .iter()
                .map(|spec| Group {
                    spec: spec.clone(),
                    shared_inbox: AtomicBool::new(spec.shared_inbox),
                    in_flight: AtomicUsize::new(0),
                    max_in_flight: AtomicUsize::new(0),
                })
                .collect(),
            servers,
            public_pems,
            tallies: Mutex::new(HashMap::new()),
            actor_fetches: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
        });
        for (server, listener) in listeners.into_iter().enumerate() {
            let app = Router::new()
                .route("/users/{name}", get(actor))
                .route("/users/{name}/inbox", post(inbox))
                .route("/users/{name}/{collection}", get(collection))
                .route("/inbox", post(inbox))
                .with_state(Peer {
                    fleet: fleet.clone(),
                    server,
                });
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, app).await {
                    eprintln!("fake server stopped: {error}");
                }
            });
        }
        Ok(fleet)
    }

    /// Every actor of group `group`, server by server.
    pub fn actors(&self, group: usize) -> Vec<RemoteActor> {
        let Some(g) = self.groups.get(group) else {
            return Vec::new();
        };
        let mut actors = Vec::new();
        for server in self.servers.iter().filter(|s| s.group == group) {
            for n in 0..g.spec.actors_per_server {
                let uri = format!("{}/users/a{n}", server.base);
                actors.push(RemoteActor {
                    key_id: format!("{uri}#main-key"),
                    uri,
                    key: actors.len() % self.public_pems.len(),
                });
            }
        }
        actors
    }

    /// Inboxes a post to every actor of `group` needs: one per server with
    /// shared inboxes, one per actor without.
    pub fn distinct_inboxes(&self, group: usize) -> usize {
        self.groups.get(group).map_or(0, |g| {
            if g.shared_inbox.load(Ordering::Relaxed) {
                g.spec.servers
            } else {
                g.spec.servers * g.spec.actors_per_server
            }
        })
    }

    pub fn set_shared_inbox(&self, group: usize, shared: bool) {
        if let Some(g) = self.groups.get(group) {
            g.shared_inbox.store(shared, Ordering::Relaxed);
        }
    }

    /// Forgets every tally and the in-flight high-water marks.
    pub fn reset(&self) {
        self.tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        for g in &self.groups {
            g.max_in_flight
                .store(g.in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        self.actor_fetches.store(0, Ordering::Relaxed);
        self.malformed.store(0, Ordering::Relaxed);
    }

    /// What group `group` received of activities of type `kind` so far.
    pub fn tally(&self, group: usize, kind: &str) -> Tally {
        self.tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(group, kind.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Requests of type `kind` group `group` received so far (cheaper than
    /// [`Fleet::tally`]).
    pub fn count(&self, group: usize, kind: &str) -> u64 {
        self.tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(group, kind.to_owned()))
            .map_or(0, |t| t.requests)
    }

    /// The most deliveries group `group`'s inboxes held at once since the
    /// last [`Fleet::reset`].
    pub fn max_in_flight(&self, group: usize) -> usize {
        self.groups
            .get(group)
            .map_or(0, |g| g.max_in_flight.load(Ordering::Relaxed))
    }

    fn record(&self, group: usize, kind: String, inbox: String, signed: bool) {
        let now = Instant::now();
        let mut tallies = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        let tally = tallies.entry((group, kind)).or_default();
        tally.requests += 1;
        tally.signed += u64::from(signed);
        tally.inboxes.insert(inbox);
        tally.first.get_or_insert(now);
        tally.last = Some(now);
    }

    fn actor_document(&self, server: &PeerServer, n: usize) -> Value {
        let id = format!("{}/users/a{n}", server.base);
        let per_server = self.groups[server.group].spec.actors_per_server;
        // The same key pair the generator signs this actor's requests with
        // (see `actors`): numbered across the group, server by server.
        let index = server.index * per_server + n;
        let mut document = json!({
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
            "manuallyApprovesFollowers": false,
            "discoverable": false,
            "publicKey": {
                "id": format!("{id}#main-key"),
                "owner": id,
                "publicKeyPem": self.public_pems[index % self.public_pems.len()],
            },
        });
        if self.groups[server.group]
            .shared_inbox
            .load(Ordering::Relaxed)
        {
            document["endpoints"] = json!({ "sharedInbox": format!("{}/inbox", server.base) });
        }
        document
    }

    fn actor_number(&self, server: &PeerServer, name: &str) -> Option<usize> {
        let per_server = self.groups[server.group].spec.actors_per_server;
        name.strip_prefix('a')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n < per_server)
    }
}

fn activity_json(body: Value) -> Response {
    ([(header::CONTENT_TYPE, ACTIVITY_JSON)], body.to_string()).into_response()
}

async fn actor(State(peer): State<Peer>, Path(name): Path<String>) -> Response {
    let server = &peer.fleet.servers[peer.server];
    match peer.fleet.actor_number(server, &name) {
        Some(n) => {
            peer.fleet.actor_fetches.fetch_add(1, Ordering::Relaxed);
            activity_json(peer.fleet.actor_document(server, n))
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Outbox, followers and following: empty collections.
async fn collection(
    State(peer): State<Peer>,
    Path((name, collection)): Path<(String, String)>,
) -> Response {
    let server = &peer.fleet.servers[peer.server];
    let known = matches!(collection.as_str(), "outbox" | "followers" | "following");
    match peer.fleet.actor_number(server, &name) {
        Some(_) if known => activity_json(json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/users/{name}/{collection}", server.base),
            "type": "OrderedCollection",
            "totalItems": 0,
            "orderedItems": [],
        })),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Both inboxes: a personal one (`/users/aN/inbox`) and the shared one
/// (`/inbox`). Tallies the delivery, holds it for the group's delay, and
/// answers 202.
async fn inbox(
    State(peer): State<Peer>,
    name: Option<Path<String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fleet = &peer.fleet;
    let server = &fleet.servers[peer.server];
    let path = match name {
        Some(Path(name)) => {
            if fleet.actor_number(server, &name).is_none() {
                return StatusCode::NOT_FOUND.into_response();
            }
            format!("/users/{name}/inbox")
        }
        None => "/inbox".to_owned(),
    };
    let signed = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("keyId=\"") && v.contains("signature=\""));
    let kind = match serde_json::from_slice::<Head>(&body) {
        Ok(head) => head.kind,
        Err(_) => {
            fleet.malformed.fetch_add(1, Ordering::Relaxed);
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let group = &fleet.groups[server.group];
    let delay = group.spec.answer_delay;
    if delay.is_zero() {
        fleet.record(server.group, kind, format!("{}{path}", server.base), signed);
    } else {
        let _held = Held::new(group);
        tokio::time::sleep(delay).await;
        // Counted when answered: that is when the sender learns of it.
        fleet.record(server.group, kind, format!("{}{path}", server.base), signed);
    }
    StatusCode::ACCEPTED.into_response()
}

/// A delivery being held by a slow inbox; released when answered or when
/// the sender gives up and drops the connection.
struct Held<'a>(&'a Group);

impl<'a> Held<'a> {
    fn new(group: &'a Group) -> Held<'a> {
        let now = group.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        group.max_in_flight.fetch_max(now, Ordering::Relaxed);
        Held(group)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
