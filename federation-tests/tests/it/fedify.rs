//! An independent ActivityPub implementation as a peer: a small server
//! built on Fedify (federation-tests/peers/fedify, run by Node.js) and a
//! real Perch instance federate over loopback, and each side checks what
//! the other stored. Each way: follow and its Accept, post, reply, like,
//! boost, their undoing, edit, delete, profile edit and unfollow; a poll
//! is sent from Fedify (and, once Perch has polls, each way). Signatures
//! are verified strictly on both sides: Fedify never skips verification
//! (Perch's first RFC 9421 knock is refused by Fedify 1.5, which reads
//! only draft-cavage, and the draft-cavage one accepted), and each side
//! refuses what is unsigned, signed by a key that is not the actor's, or
//! changed after signing. Both also federate with signed fetches required
//! (Perch's secure mode, the peer's `--secure`).
//!
//! The peer comes from `npm ci` in `peers/fedify` (`scripts/test` runs it).
//! Without Node.js or the installed packages the tests fail under
//! `CI=true` and are skipped otherwise.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perch_apub::signatures::SigningKey;
use perch_federation_tests::{
    Instance, PASSWORD, deliver, drain, follow_across, png_dot, relationship, upload_dot,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use url::Url;

/// How long the peer may take to start, and to show what it received.
const DEADLINE: Duration = Duration::from_secs(60);

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/fedify")
}

/// Whether the peer can run here; a missing piece is a failure under
/// `CI=true` and a notice otherwise.
fn peer_installed() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let problem = if !matches!(node, Ok(status) if status.success()) {
        "node is not on PATH: install Node.js (20 or later), then run npm ci in \
         federation-tests/peers/fedify"
    } else if !peer_dir().join("node_modules/@fedify/fedify").is_dir() {
        "peers/fedify/node_modules is missing: run npm ci in federation-tests/peers/fedify \
         (scripts/test does)"
    } else {
        return true;
    };
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{problem}");
    eprintln!("skipping the Fedify peer test: {problem}");
    false
}

/// The Fedify peer, a child process killed on drop.
struct Fedify {
    child: Child,
    /// `http://127.0.0.1:port`.
    base: String,
    /// `127.0.0.1:port`, its federation domain.
    domain: String,
    client: reqwest::Client,
}

impl Fedify {
    async fn start() -> Fedify {
        Self::start_with(&[]).await
    }

    /// Start with the peer's `flags` (`--secure`).
    async fn start_with(flags: &[&str]) -> Fedify {
        let mut child = Command::new("node")
            .arg("peer.mjs")
            .arg("0")
            .args(flags)
            .current_dir(peer_dir())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("piped stdout");
        // The first line it prints is {"port": N}, once it serves.
        let line = tokio::time::timeout(
            DEADLINE,
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                BufReader::new(stdout).read_line(&mut line).map(|_| line)
            }),
        )
        .await
        .expect("the peer starts within the deadline")
        .expect("the reader did not panic")
        .expect("the peer's output reads");
        let started: Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("the peer printed {line:?}: {error}"));
        let port = started["port"].as_u64().expect("a port");
        let domain = format!("127.0.0.1:{port}");
        Fedify {
            child,
            base: format!("http://{domain}"),
            domain,
            client: reqwest::Client::new(),
        }
    }

    fn actor(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }

    /// POST /control/`name` with `body`: what it answered, which must be 200.
    async fn control(&self, name: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/control/{name}", self.base))
            .json(&body)
            .send()
            .await
            .expect("the peer answers");
        let status = response.status();
        let answer: Value = response.json().await.expect("JSON");
        assert_eq!(status, StatusCode::OK, "control {name}: {answer}");
        answer
    }

    async fn read(&self, path: &str) -> Value {
        self.client
            .get(format!("{}/control/{path}", self.base))
            .send()
            .await
            .expect("the peer answers")
            .json()
            .await
            .expect("JSON")
    }

    /// The first activity the peer's inbox accepted (verified) that
    /// `matches`, awaited until the deadline: its `type`, `id`, `actor`,
    /// its `object` as Fedify's vocabulary read it, and the `json` as sent.
    async fn received(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let inbox = self.read("inbox").await;
            if let Some(found) = inbox.as_array().and_then(|l| l.iter().find(|e| matches(e))) {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "{what} did not reach the peer; it has {inbox:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `read` until `matches` holds of it, or the deadline passes.
    async fn read_until(&self, path: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let value = self.read(path).await;
            if matches(&value) {
                return value;
            }
            assert!(Instant::now() < deadline, "{path} stays {value:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Fedify {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `entry` (a received activity) is a `kind` whose object has the
/// id `object`.
fn about(entry: &Value, kind: &str, object: &str) -> bool {
    entry["type"] == kind && entry["object"]["id"] == object
}

async fn status_on(perch: &Instance, token: &str, id: &str) -> (StatusCode, Value) {
    perch.get(&format!("/api/v1/statuses/{id}"), token).await
}

/// The ids of the statuses in the home timeline of the holder of `token`.
async fn home_uris(perch: &Instance, token: &str) -> Vec<Value> {
    let (status, home) = perch.get("/api/v1/timelines/home", token).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    home.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["uri"].clone())
        .collect()
}

/// The local id on `perch` of the status at `uri`, found by search.
async fn resolve_status(perch: &Instance, token: &str, uri: &str) -> String {
    let (status, found) = perch
        .get(
            &format!(
                "/api/v2/search?type=statuses&resolve=true&q={}",
                url::form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
            ),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    found["statuses"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{uri} did not resolve: {found}"))
        .to_owned()
}

#[tokio::test]
async fn what_perch_sends_reaches_fedify() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_user("alice", PASSWORD).await;
    let alice = perch.token("alice").await;
    let alice_uri = perch.url("/users/alice");

    // Fedify reads Perch's NodeInfo strictly.
    let info = fedify
        .control("nodeinfo", json!({"url": perch.base_url}))
        .await;
    assert_eq!(info["conforms"], true, "{info}");
    assert_eq!(info["software"]["name"], "perch", "{info}");
    assert_eq!(info["protocols"], json!(["activitypub"]), "{info}");
    assert_eq!(info["users"]["total"], 1, "{info}");

    // Follow: Alice follows Bob, and Fedify's Accept makes it stand.
    let bob_id = follow_across(
        &perch,
        &alice,
        &format!("@bob@{}", fedify.domain),
        &[&perch],
    )
    .await;
    let follow = fedify
        .received("Alice's Follow", |e| {
            about(e, "Follow", &fedify.actor("bob"))
        })
        .await;
    assert_eq!(follow["actor"], alice_uri);
    fedify
        .read_until("followers?actor=bob", |f| *f == json!([alice_uri]))
        .await;
    // Perch knocked with RFC 9421 first, which Fedify 1.5 does not read
    // and refused, then with draft-cavage, which it verified.
    let requests = fedify.read("requests").await;
    let knocks: Vec<(&str, u64)> = requests
        .as_array()
        .expect("a list")
        .iter()
        .filter(|r| r["method"] == "POST")
        .map(|r| {
            (
                r["scheme"].as_str().unwrap_or("none"),
                r["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        knocks[..2],
        [("rfc9421", 401), ("cavage", 202)],
        "{requests:#}"
    );

    // Bob follows Alice back: Perch accepts, and Fedify sees the Accept.
    fedify
        .control("follow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    let following = fedify.read("following?actor=bob").await;
    assert_eq!(following[&alice_uri], "accepted", "{following}");
    assert_eq!(
        relationship(&perch, &alice, &bob_id).await["followed_by"],
        true
    );

    // A post reaches Bob, public, with its text.
    let media = upload_dot(&perch, &alice).await;
    let posted = perch
        .post_status(
            &alice,
            json!({"status": "Hello, Fedify", "media_ids": [media["id"]]}),
        )
        .await;
    let post_uri = posted["uri"].as_str().expect("uri").to_owned();
    let post_id = posted["id"].as_str().expect("id").to_owned();
    drain(&[&perch]).await;
    let create = fedify
        .received("Alice's post", |e| about(e, "Create", &post_uri))
        .await;
    assert!(
        create["object"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("Hello, Fedify")),
        "{create:#}"
    );
    assert_eq!(create["object"]["type"], "Note");
    let attachment = &create["object"]["attachments"][0];
    assert_eq!(attachment["type"], "Document", "{create:#}");
    assert_eq!(attachment["name"], "two by two", "{create:#}");
    assert_eq!(attachment["url"], media["url"], "{create:#}");
    assert_eq!(create["object"]["attributedTo"], alice_uri);
    assert_eq!(
        create["object"]["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(
        create["object"]["cc"],
        json!([perch.url("/users/alice/followers")])
    );

    // Bob posts; Alice answers it, likes it and boosts it.
    let bobs = fedify
        .control(
            "post",
            json!({"actor": "bob", "content": "<p>Hello, Perch</p>"}),
        )
        .await;
    let bobs_uri = bobs["id"].as_str().expect("id").to_owned();
    drain(&[&perch]).await;
    let bobs_here = resolve_status(&perch, &alice, &bobs_uri).await;
    let reply = perch
        .post_status(
            &alice,
            json!({"status": format!("@bob@{} welcome", fedify.domain), "in_reply_to_id": bobs_here}),
        )
        .await;
    let reply_uri = reply["uri"].as_str().expect("uri").to_owned();
    let (status, _) = perch
        .post(&format!("/api/v1/statuses/{bobs_here}/favourite"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = perch
        .post(&format!("/api/v1/statuses/{bobs_here}/reblog"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    let answer = fedify
        .received("Alice's reply", |e| about(e, "Create", &reply_uri))
        .await;
    assert_eq!(answer["object"]["inReplyTo"], bobs_uri, "{answer:#}");
    assert_eq!(
        answer["object"]["tags"],
        json!([{"type": "Mention", "href": fedify.actor("bob"), "name": format!("@bob@{}", fedify.domain)}]),
        "{answer:#}"
    );
    let like = fedify
        .received("Alice's like", |e| about(e, "Like", &bobs_uri))
        .await;
    assert_eq!(like["actor"], alice_uri);
    let boost = fedify
        .received("Alice's boost", |e| about(e, "Announce", &bobs_uri))
        .await;
    assert_eq!(boost["actor"], alice_uri);

    // Fedify reads Alice's outbox page by page, and her followers.
    let outbox = fedify
        .control(
            "collection",
            json!({"actor": "bob", "url": perch.url("/users/alice/outbox")}),
        )
        .await;
    let created: Vec<&Value> = outbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["type"] == "Create")
        .map(|i| &i["object"])
        .collect();
    assert!(
        created.contains(&&json!(post_uri)) && created.contains(&&json!(reply_uri)),
        "{outbox:#}"
    );
    let followers = fedify
        .control(
            "collection",
            json!({"actor": "bob", "url": perch.url("/users/alice/followers")}),
        )
        .await;
    assert_eq!(followers["totalItems"], 1, "{followers:#}");

    // Both taken back.
    for path in ["unfavourite", "unreblog"] {
        let (status, _) = perch
            .post(&format!("/api/v1/statuses/{bobs_here}/{path}"), &alice)
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    drain(&[&perch]).await;
    for kind in ["Like", "Announce"] {
        let undo = fedify
            .received(&format!("the Undo of Alice's {kind}"), |e| {
                e["type"] == "Undo"
                    && e["object"]["type"] == kind
                    && e["object"]["object"] == bobs_uri
            })
            .await;
        assert_eq!(undo["actor"], alice_uri);
    }

    // A followers-only post with a hashtag and a content warning, and a
    // direct one, addressed as Fedify reads them.
    let quiet = perch
        .post_status(
            &alice,
            json!({"status": "For followers #Perch", "visibility": "private", "spoiler_text": "quiet"}),
        )
        .await;
    let direct = perch
        .post_status(
            &alice,
            json!({"status": format!("@bob@{} only you", fedify.domain), "visibility": "direct"}),
        )
        .await;
    drain(&[&perch]).await;
    let quiet_uri = quiet["uri"].as_str().expect("uri");
    let quiet_there = fedify
        .received("Alice's followers-only post", |e| {
            about(e, "Create", quiet_uri)
        })
        .await;
    assert_eq!(
        quiet_there["object"]["to"],
        json!([perch.url("/users/alice/followers")]),
        "{quiet_there:#}"
    );
    assert_eq!(quiet_there["object"]["cc"], json!([]), "{quiet_there:#}");
    assert_eq!(quiet_there["object"]["summary"], "quiet");
    assert_eq!(
        quiet_there["object"]["tags"][0]["type"], "Hashtag",
        "{quiet_there:#}"
    );
    assert_eq!(
        quiet_there["object"]["tags"][0]["name"], "#perch",
        "{quiet_there:#}"
    );
    let direct_uri = direct["uri"].as_str().expect("uri");
    let direct_there = fedify
        .received("Alice's direct post", |e| about(e, "Create", direct_uri))
        .await;
    assert_eq!(
        direct_there["object"]["to"],
        json!([fedify.actor("bob")]),
        "{direct_there:#}"
    );
    assert_eq!(direct_there["object"]["cc"], json!([]), "{direct_there:#}");

    // An edit, then a delete.
    let (status, edited) = perch
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{post_id}"),
            &alice,
            Some(json!({"status": "Hello, Fedify (edited)"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    drain(&[&perch]).await;
    let update = fedify
        .received("Alice's edit", |e| about(e, "Update", &post_uri))
        .await;
    assert!(
        update["object"]["content"]
            .as_str()
            .is_some_and(|c| c.contains("(edited)")),
        "{update:#}"
    );
    assert!(update["object"]["updated"].is_string(), "{update:#}");
    let (status, _) = perch
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{post_id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    let delete = fedify
        .received("Alice's delete", |e| about(e, "Delete", &post_uri))
        .await;
    assert_eq!(delete["actor"], alice_uri);

    // A profile edit reaches Fedify as an Update of Alice's actor.
    let form = reqwest::multipart::Form::new()
        .text("display_name", "Alice of Perch")
        .part(
            "avatar",
            reqwest::multipart::Part::bytes(png_dot()).file_name("me.png"),
        );
    let edited = perch
        .client
        .patch(perch.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(edited.status(), StatusCode::OK);
    let avatar = edited.json::<Value>().await.expect("JSON")["avatar"].clone();
    drain(&[&perch]).await;
    let renamed = fedify
        .received("Alice's profile edit", |e| about(e, "Update", &alice_uri))
        .await;
    assert_eq!(renamed["object"]["type"], "Person", "{renamed:#}");
    assert_eq!(renamed["object"]["name"], "Alice of Perch", "{renamed:#}");
    assert_eq!(renamed["object"]["icon"], avatar, "{renamed:#}");

    // Alice unfollows Bob: Fedify drops her from his followers.
    let (status, _) = perch
        .post(&format!("/api/v1/accounts/{bob_id}/unfollow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    fedify
        .read_until("followers?actor=bob", |f| *f == json!([]))
        .await;

    // POLLS (Perch to Fedify), to be filled in once Perch has polls: Alice
    // posts a poll (POST /api/v1/statuses with `poll`); the peer's inbox
    // shows a Create whose `object` is a "Question" with its `options`,
    // `multiple` and `endTime` as Fedify reads them; Bob votes with
    // `fedify.control("vote", {"actor": "bob", "question": <its uri>,
    // "choice": <an option>})`; after a drain Alice's poll (GET
    // /api/v1/polls/:id) counts his vote, and the Update of the Question
    // Perch sends shows it in the peer's inbox (`object.votes`,
    // `object.voters`).

    // Fedify verifies strictly: an unsigned activity, and one signed for
    // Alice by a key that is not hers, are refused and not applied.
    let inbox = Url::parse(&format!("{}/inbox", fedify.actor("bob"))).expect("url");
    let note_id = format!("{alice_uri}/statuses/1");
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{note_id}/activity"),
        "type": "Create",
        "actor": alice_uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": note_id, "type": "Note", "attributedTo": alice_uri,
            "content": "not by Alice",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    });
    let body = serde_json::to_vec(&forged).expect("json");
    let unsigned = fedify
        .client
        .post(inbox.clone())
        .header("Content-Type", "application/activity+json")
        .body(body.clone())
        .send()
        .await
        .expect("the peer answers");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let (_, other_private) = perch_core::keys::generate_actor_keys().expect("keys");
    let other_key =
        SigningKey::from_pem(format!("{alice_uri}#main-key"), &other_private).expect("key");
    assert_eq!(
        deliver(&fedify.client, &other_key, &inbox, &body).await,
        StatusCode::UNAUTHORIZED
    );
    let inbox_now = fedify.read("inbox").await;
    assert!(
        !inbox_now
            .as_array()
            .expect("a list")
            .iter()
            .any(|e| about(e, "Create", &note_id)),
        "{inbox_now:#}"
    );
}

#[tokio::test]
async fn what_fedify_sends_reaches_perch() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_user("alice", PASSWORD).await;
    let alice = perch.token("alice").await;
    let alice_uri = perch.url("/users/alice");

    // Follow: Bob follows Alice (Fedify's signed Follow), Perch's Accept
    // reaches Fedify.
    fedify
        .control("follow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    let following = fedify.read("following?actor=bob").await;
    assert_eq!(following[&alice_uri], "accepted", "{following}");
    let (_, followers) = perch
        .get("/api/v1/accounts/lookup?acct=alice", &alice)
        .await;
    let alice_id = followers["id"].as_str().expect("id").to_owned();
    let (_, list) = perch
        .get(&format!("/api/v1/accounts/{alice_id}/followers"), &alice)
        .await;
    assert_eq!(list[0]["acct"], format!("bob@{}", fedify.domain), "{list}");
    // Alice follows Bob, to see his posts: his earlier post is read from
    // his outbox at once.
    let earlier = fedify
        .control(
            "post",
            json!({"actor": "bob", "content": "<p>Before you came</p>"}),
        )
        .await;
    let bob_id = follow_across(
        &perch,
        &alice,
        &format!("@bob@{}", fedify.domain),
        &[&perch],
    )
    .await;
    assert_eq!(home_uris(&perch, &alice).await, [earlier["id"].clone()]);

    // Posts reach Alice's home, with their hashtags, content warnings and
    // visibility.
    let posted = fedify
        .control(
            "post",
            json!({
                "actor": "bob",
                "content": "<p>Hello from Fedify :fedify: <a href=\"#\" class=\"hashtag\">#Perch</a></p>",
                "hashtags": ["Perch"],
                "emojis": ["fedify"],
                "attachments": [{"name": "a dot"}],
                "summary": "a greeting",
            }),
        )
        .await;
    let post_uri = posted["id"].as_str().expect("id").to_owned();
    let quiet = fedify
        .control(
            "post",
            json!({"actor": "bob", "content": "<p>Only for followers</p>", "to": "followers"}),
        )
        .await;
    let direct = fedify
        .control(
            "post",
            json!({
                "actor": "bob",
                "content": "<p>Just for you, Alice</p>",
                "to": "direct",
                "mentions": [alice_uri],
            }),
        )
        .await;
    drain(&[&perch]).await;
    let (_, home) = perch.get("/api/v1/timelines/home", &alice).await;
    let shown = |uri: &Value| {
        home.as_array()
            .expect("a list")
            .iter()
            .find(|s| s["uri"] == *uri)
            .unwrap_or_else(|| panic!("{uri} is not in Alice's home: {home:#}"))
            .clone()
    };
    let post = shown(&posted["id"]);
    assert!(
        post["content"]
            .as_str()
            .unwrap()
            .contains("Hello from Fedify"),
        "{post}"
    );
    assert_eq!(post["account"]["id"], bob_id);
    assert_eq!(post["visibility"], "public");
    assert_eq!(post["spoiler_text"], "a greeting");
    assert_eq!(post["sensitive"], true);
    assert_eq!(post["tags"][0]["name"], "perch", "{post}");
    let dot = format!("{}/media/dot.png", fedify.base);
    assert_eq!(post["emojis"][0]["shortcode"], "fedify", "{post}");
    assert_eq!(post["emojis"][0]["url"], dot, "{post}");
    let attachment = &post["media_attachments"][0];
    assert_eq!(attachment["type"], "image", "{post}");
    assert_eq!(attachment["description"], "a dot", "{post}");
    assert_eq!(attachment["remote_url"], dot, "{post}");
    assert_eq!(post["account"]["avatar"], dot, "{post}");
    assert_eq!(shown(&quiet["id"])["visibility"], "private");
    let direct_here = shown(&direct["id"]);
    assert_eq!(direct_here["visibility"], "direct");
    assert_eq!(direct_here["mentions"][0]["acct"], "alice");
    let post_here = post["id"].as_str().expect("id").to_owned();

    // Bob answers, likes and boosts a post of Alice's.
    let hers = perch
        .post_status(&alice, json!({"status": "Hello, Bob"}))
        .await;
    let hers_id = hers["id"].as_str().expect("id").to_owned();
    let hers_uri = hers["uri"].as_str().expect("uri").to_owned();
    drain(&[&perch]).await;
    let reply = fedify
        .control(
            "reply",
            json!({"actor": "bob", "inReplyTo": hers_uri, "content": "<p>Hello, Alice</p>"}),
        )
        .await;
    let like = fedify
        .control("like", json!({"actor": "bob", "object": hers_uri}))
        .await;
    let boost = fedify
        .control("announce", json!({"actor": "bob", "object": hers_uri}))
        .await;
    drain(&[&perch]).await;
    let (_, context) = perch
        .get(&format!("/api/v1/statuses/{hers_id}/context"), &alice)
        .await;
    assert_eq!(context["descendants"][0]["uri"], reply["id"], "{context:#}");
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["replies_count"], 1, "{counted}");
    assert_eq!(counted["favourites_count"], 1, "{counted}");
    assert_eq!(counted["reblogs_count"], 1, "{counted}");
    // Fedify addresses its public boost to `as:Public`, the compact form.
    let (_, boosts) = perch
        .get(&format!("/api/v1/accounts/{bob_id}/statuses"), &alice)
        .await;
    let reblog = boosts
        .as_array()
        .expect("a list")
        .iter()
        .find(|s| s["reblog"]["id"] == hers_id.as_str())
        .unwrap_or_else(|| panic!("no reblog of Alice's post: {boosts:#}"));
    assert_eq!(reblog["visibility"], "public", "{reblog:#}");
    let (_, notes) = perch.get("/api/v1/notifications", &alice).await;
    let mut kinds: Vec<&str> = notes
        .as_array()
        .expect("a list")
        .iter()
        .filter(|n| n["account"]["id"] == bob_id)
        .map(|n| n["type"].as_str().unwrap_or_default())
        .collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["favourite", "follow", "mention", "mention", "reblog"],
        "the direct post, the reply, the like, the follow and the boost: {notes:#}"
    );

    // An unlisted post quoting Alice's links it, and goes when deleted by
    // its id alone.
    let quoting = fedify
        .control(
            "post",
            json!({"actor": "bob", "content": "<p>Look at this</p>", "to": "unlisted", "quote": hers_uri}),
        )
        .await;
    drain(&[&perch]).await;
    let quoting_here = resolve_status(&perch, &alice, quoting["id"].as_str().expect("id")).await;
    let (_, quote) = status_on(&perch, &alice, &quoting_here).await;
    assert_eq!(quote["visibility"], "unlisted", "{quote}");
    let text = quote["content"].as_str().expect("content");
    assert!(text.contains("RE:") && text.contains(&hers_uri), "{quote}");
    fedify
        .control(
            "delete",
            json!({"actor": "bob", "id": quoting["id"], "byId": true}),
        )
        .await;
    drain(&[&perch]).await;
    let (status, _) = status_on(&perch, &alice, &quoting_here).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The like and the boost taken back.
    fedify
        .control("undo", json!({"actor": "bob", "activity": like["id"]}))
        .await;
    fedify
        .control("undo", json!({"actor": "bob", "activity": boost["id"]}))
        .await;
    drain(&[&perch]).await;
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["favourites_count"], 0, "{counted}");
    assert_eq!(counted["reblogs_count"], 0, "{counted}");

    // An emoji reaction counts as a like until it is taken back.
    let reaction = fedify
        .control(
            "react",
            json!({"actor": "bob", "object": hers_uri, "emoji": "🐦"}),
        )
        .await;
    drain(&[&perch]).await;
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["favourites_count"], 1, "{counted}");
    fedify
        .control("undo", json!({"actor": "bob", "activity": reaction["id"]}))
        .await;
    drain(&[&perch]).await;
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["favourites_count"], 0, "{counted}");

    // An edit, then a delete.
    fedify
        .control(
            "update",
            json!({"actor": "bob", "id": post_uri, "content": "<p>Hello from Fedify, edited</p>"}),
        )
        .await;
    drain(&[&perch]).await;
    let (status, edited) = status_on(&perch, &alice, &post_here).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert!(
        edited["content"].as_str().unwrap().contains("edited"),
        "{edited}"
    );
    assert!(edited["edited_at"].is_string(), "{edited}");
    fedify
        .control("delete", json!({"actor": "bob", "id": post_uri}))
        .await;
    drain(&[&perch]).await;
    let (status, _) = status_on(&perch, &alice, &post_here).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A poll: Bob's Question is stored as his status. Carol, on the same
    // peer, votes in it, which the peer counts.
    let question = fedify
        .control(
            "question",
            json!({"actor": "bob", "content": "<p>Tea or coffee?</p>", "options": ["tea", "coffee"]}),
        )
        .await;
    let question_uri = question["id"].as_str().expect("id").to_owned();
    drain(&[&perch]).await;
    let (_, home) = perch.get("/api/v1/timelines/home", &alice).await;
    assert!(
        home.as_array()
            .expect("a list")
            .iter()
            .any(|s| s["uri"] == question_uri
                && s["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Tea or coffee?")),
        "{home:#}"
    );
    fedify
        .control(
            "vote",
            json!({"actor": "carol", "question": question_uri, "choice": "tea"}),
        )
        .await;
    let votes = fedify
        .read_until(&format!("votes?id={question_uri}"), |v| {
            v["tea"].as_array().is_some_and(|t| !t.is_empty())
        })
        .await;
    assert_eq!(votes["tea"], json!([fedify.actor("carol")]), "{votes}");
    assert_eq!(votes["coffee"], json!([]), "{votes}");
    // Bob renames himself: Perch fetches his actor again.
    fedify
        .control(
            "profile",
            json!({"actor": "bob", "name": "Robert of Fedify"}),
        )
        .await;
    drain(&[&perch]).await;
    let (_, bob) = perch
        .get(&format!("/api/v1/accounts/{bob_id}"), &alice)
        .await;
    assert_eq!(bob["display_name"], "Robert of Fedify", "{bob}");

    // The peer tells its followers the count: an Update of the Question.
    let tally = fedify
        .control("tally", json!({"actor": "bob", "id": question_uri}))
        .await;
    assert_eq!(tally["voters"], 1, "{tally}");
    drain(&[&perch]).await;
    // Its text is unchanged: the question is not shown as edited.
    let question_here = resolve_status(&perch, &alice, &question_uri).await;
    let (_, shown) = status_on(&perch, &alice, &question_here).await;
    assert_eq!(shown["edited_at"], Value::Null, "{shown:#}");

    // POLLS (Fedify to Perch), to be filled in once Perch has polls: the
    // status above shows Bob's poll (GET /api/v1/statuses/:id: `poll` with
    // the options "tea" and "coffee", `multiple` false, `expires_at`, and
    // after the tally above one vote for tea); Alice votes with POST
    // /api/v1/polls/:id/votes, and `fedify.read("votes?id=…")` lists her
    // actor under the option she chose (a Note with that `name`, answering
    // the question, reached Bob).

    // Perch verifies strictly: an unsigned activity, one signed for Bob by
    // Carol's key, and one changed after Bob signed it are refused, and
    // none is applied.
    let inbox = Url::parse(&perch.url("/users/alice/inbox")).expect("url");
    let unsigned = perch
        .client
        .post(inbox.clone())
        .header("Content-Type", "application/activity+json")
        .body(
            json!({
                "id": format!("{}/unsigned", fedify.actor("bob")),
                "type": "Like",
                "actor": fedify.actor("bob"),
                "object": hers_uri,
            })
            .to_string(),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let forged = fedify
        .control(
            "forged",
            json!({"actor": "bob", "inbox": inbox.as_str(), "as": "carol"}),
        )
        .await;
    assert_eq!(forged["status"], 401, "{forged}");
    let tampered = fedify
        .control("tampered", json!({"actor": "bob", "inbox": inbox.as_str()}))
        .await;
    assert_eq!(tampered["status"], 401, "{tampered}");
    drain(&[&perch]).await;
    let (_, counted) = status_on(&perch, &alice, &hers_id).await;
    assert_eq!(counted["favourites_count"], 0, "{counted}");
    for refused in [&forged, &tampered] {
        let note = refused["note"].as_str().expect("note id");
        let stored = perch_db::statuses::find_by_uri(&perch.db, note)
            .await
            .expect("read");
        assert!(stored.is_none(), "{note} was stored");
    }

    // Bob unfollows Alice.
    fedify
        .control("unfollow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    assert_eq!(
        relationship(&perch, &alice, &bob_id).await["followed_by"],
        false
    );

    // Bob deletes his account: everything of his goes here.
    let reply_uri = reply["id"].as_str().expect("id");
    assert!(
        perch_db::statuses::find_by_uri(&perch.db, reply_uri)
            .await
            .expect("read")
            .is_some()
    );
    fedify.control("leave", json!({"actor": "bob"})).await;
    drain(&[&perch]).await;
    for gone in [reply_uri, &question_uri] {
        let stored = perch_db::statuses::find_by_uri(&perch.db, gone)
            .await
            .expect("read");
        assert!(stored.is_none(), "{gone} is still here");
    }
    let (_, followed) = perch
        .get(&format!("/api/v1/accounts/{alice_id}/following"), &alice)
        .await;
    assert_eq!(followed, json!([]), "Alice follows Bob no more");
}

#[tokio::test]
async fn fedify_s_follow_requests_to_a_locked_account_are_answered_when_decided() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_locked_user("dora", PASSWORD).await;
    let dora = perch.token("dora").await;
    let dora_uri = perch.url("/users/dora");

    // Bob and Carol ask to follow Dora, who keeps them waiting.
    for actor in ["bob", "carol"] {
        fedify
            .control("follow", json!({"actor": actor, "target": dora_uri}))
            .await;
    }
    drain(&[&perch]).await;
    for actor in ["bob", "carol"] {
        let following = fedify.read(&format!("following?actor={actor}")).await;
        assert_eq!(following[&dora_uri], "pending", "{actor}: {following}");
    }
    let (_, requests) = perch.get("/api/v1/follow_requests", &dora).await;
    let asking = |name: &str| {
        requests
            .as_array()
            .expect("a list")
            .iter()
            .find(|a| a["acct"] == format!("{name}@{}", fedify.domain))
            .unwrap_or_else(|| panic!("no request from {name}: {requests:#}"))["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let (bob, carol) = (asking("bob"), asking("carol"));

    // Dora accepts Bob and rejects Carol: each hears the answer.
    let (status, _) = perch
        .post(&format!("/api/v1/follow_requests/{bob}/authorize"), &dora)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = perch
        .post(&format!("/api/v1/follow_requests/{carol}/reject"), &dora)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    fedify
        .read_until("following?actor=bob", |f| f[&dora_uri] == "accepted")
        .await;
    fedify
        .read_until("following?actor=carol", |f| f[&dora_uri] == "rejected")
        .await;
    let reject = fedify
        .received("Dora's Reject", |e| e["type"] == "Reject")
        .await;
    assert_eq!(reject["actor"], dora_uri);
    assert_eq!(
        reject["object"]["actor"],
        fedify.actor("carol"),
        "{reject:#}"
    );
    assert_eq!(relationship(&perch, &dora, &bob).await["followed_by"], true);
    assert_eq!(
        relationship(&perch, &dora, &carol).await["followed_by"],
        false
    );
}

#[tokio::test]
async fn perch_and_fedify_both_in_secure_mode_follow_and_deliver() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (
        Instance::start_with(|config| config.secure_mode = true).await,
        Fedify::start_with(&["--secure"]).await,
    );
    perch.create_user("alice", PASSWORD).await;
    let alice = perch.token("alice").await;
    let alice_uri = perch.url("/users/alice");
    // Neither answers an unsigned fetch of an actor.
    for actor in [&alice_uri, &fedify.actor("bob")] {
        let unsigned = fedify
            .client
            .get(actor.as_str())
            .header("Accept", "application/activity+json")
            .send()
            .await
            .expect("answered");
        assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED, "{actor}");
    }

    // Each follows the other: every fetch on the way (WebFinger aside) is
    // signed, and every delivery's key is fetched signed.
    let bob_id = follow_across(
        &perch,
        &alice,
        &format!("@bob@{}", fedify.domain),
        &[&perch],
    )
    .await;
    // Perch's first fetch of Bob was signed with RFC 9421, which Fedify
    // refused, and fetched again with draft-cavage, which it verified.
    let requests = fedify.read("requests").await;
    let fetches: Vec<(&str, u64)> = requests
        .as_array()
        .expect("a list")
        .iter()
        .filter(|r| r["method"] == "GET" && r["path"] == "/users/bob")
        .map(|r| {
            (
                r["scheme"].as_str().unwrap_or("none"),
                r["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        fetches[..2],
        [("rfc9421", 401), ("cavage", 200)],
        "{requests:#}"
    );
    fedify
        .control("follow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    let following = fedify.read("following?actor=bob").await;
    assert_eq!(following[&alice_uri], "accepted", "{following}");
    assert_eq!(
        relationship(&perch, &alice, &bob_id).await["followed_by"],
        true
    );

    // A post each way, and a reply to Alice's, which Fedify fetches signed.
    let hers = perch
        .post_status(&alice, json!({"status": "Secure hello"}))
        .await;
    let hers_uri = hers["uri"].as_str().expect("uri").to_owned();
    let hers_id = hers["id"].as_str().expect("id").to_owned();
    drain(&[&perch]).await;
    fedify
        .received("Alice's post", |e| about(e, "Create", &hers_uri))
        .await;
    let reply = fedify
        .control(
            "reply",
            json!({"actor": "bob", "inReplyTo": hers_uri, "content": "<p>Secure answer</p>"}),
        )
        .await;
    drain(&[&perch]).await;
    let (_, context) = perch
        .get(&format!("/api/v1/statuses/{hers_id}/context"), &alice)
        .await;
    assert_eq!(context["descendants"][0]["uri"], reply["id"], "{context:#}");
    assert_eq!(
        context["descendants"][0]["account"]["id"], bob_id,
        "{context:#}"
    );
}

#[tokio::test]
async fn a_block_and_an_account_deletion_on_perch_reach_fedify() {
    if !peer_installed() {
        return;
    }
    let (perch, fedify) = (Instance::start().await, Fedify::start().await);
    perch.create_user("alice", PASSWORD).await;
    let alice = perch.token("alice").await;
    let alice_uri = perch.url("/users/alice");
    let bob_id = follow_across(
        &perch,
        &alice,
        &format!("@bob@{}", fedify.domain),
        &[&perch],
    )
    .await;
    fedify
        .control("follow", json!({"actor": "bob", "target": alice_uri}))
        .await;
    drain(&[&perch]).await;
    fedify
        .read_until("following?actor=bob", |f| f[&alice_uri] == "accepted")
        .await;

    // Alice blocks Bob: Fedify hears the Block, her Undo of her follow and
    // her Reject of his.
    let (status, _) = perch
        .post(&format!("/api/v1/accounts/{bob_id}/block"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&perch]).await;
    let block = fedify
        .received("Alice's Block", |e| about(e, "Block", &fedify.actor("bob")))
        .await;
    assert_eq!(block["actor"], alice_uri);
    fedify
        .read_until("followers?actor=bob", |f| *f == json!([]))
        .await;
    fedify
        .read_until("following?actor=bob", |f| f[&alice_uri] == "rejected")
        .await;

    // Alice deletes her account: Fedify verifies the Delete of her actor
    // (with the key it already has: her actor is gone).
    let (status, body) = perch
        .send(
            Method::POST,
            "/api/v1/accounts/delete",
            &alice,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    drain(&[&perch]).await;
    let deleted = fedify
        .received("Alice's deletion", |e| about(e, "Delete", &alice_uri))
        .await;
    assert_eq!(deleted["actor"], alice_uri);
    assert!(
        deleted["object"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("410")),
        "her actor answers 410 Gone: {deleted:#}"
    );
}
