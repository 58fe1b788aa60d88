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

use perch_federation_tests::Instance;
use reqwest::StatusCode;
use serde_json::Value;

mod fedify_to_perch;
mod perch_to_fedify;
mod secure_mode;

/// How long the peer may take to start, and to show what it received.
const DEADLINE: Duration = Duration::from_secs(60);

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/fedify")
}

/// Whether the peer can run here; a missing piece is a failure under
/// `CI=true` and a notice otherwise.
pub(super) fn peer_installed() -> bool {
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
pub(super) struct Fedify {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub(super) base: String,
    /// `127.0.0.1:port`, its federation domain.
    pub(super) domain: String,
    pub(super) client: reqwest::Client,
}

impl Fedify {
    pub(super) async fn start() -> Fedify {
        Self::start_with(&[]).await
    }

    /// Start with the peer's `flags` (`--secure`).
    pub(super) async fn start_with(flags: &[&str]) -> Fedify {
        let mut child = Command::new("node")
            .arg("peer.mjs")
            .arg("0")
            .args(flags)
            .current_dir(peer_dir())
            .env("NO_COLOR", "1")
            // Its stdin stays open while the test runs: the peer exits
            // when it closes, even if this process is killed.
            .stdin(Stdio::piped())
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

    pub(super) fn actor(&self, name: &str) -> String {
        format!("{}/users/{name}", self.base)
    }

    /// POST /control/`name` with `body`: what it answered, which must be 200.
    pub(super) async fn control(&self, name: &str, body: Value) -> Value {
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

    pub(super) async fn read(&self, path: &str) -> Value {
        self.read_after(path, None).await.0
    }

    /// `read`, with the peer's version of what it shows; with `after` (a
    /// version), answered once the peer has changed since (or after five
    /// seconds without a change).
    async fn read_after(&self, path: &str, after: Option<u64>) -> (Value, u64) {
        let mut url = format!("{}/control/{path}", self.base);
        if let Some(after) = after {
            url.push(if path.contains('?') { '&' } else { '?' });
            url.push_str(&format!("after={after}"));
        }
        let response = self.client.get(url).send().await.expect("the peer answers");
        let version = response
            .headers()
            .get("x-peer-version")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("the peer says its version");
        (response.json().await.expect("JSON"), version)
    }

    /// The first activity the peer's inbox accepted (verified) that
    /// `matches`, awaited until the deadline: its `type`, `id`, `actor`,
    /// its `object` as Fedify's vocabulary read it, and the `json` as sent.
    pub(super) async fn received(&self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let has = |inbox: &Value| inbox.as_array().is_some_and(|l| l.iter().any(&matches));
        let inbox = self
            .awaited("inbox", has, &format!("{what} did not reach the peer"))
            .await;
        inbox
            .as_array()
            .and_then(|l| l.iter().find(|e| matches(e)))
            .cloned()
            .unwrap_or_default()
    }

    /// `read` until `matches` holds of it, or the deadline passes.
    pub(super) async fn read_until(&self, path: &str, matches: impl Fn(&Value) -> bool) -> Value {
        self.awaited(path, matches, "the peer did not change").await
    }

    /// `read` until `matches` holds of it; each read after the first waits
    /// for the peer to change. Fails with `failure` at the deadline.
    async fn awaited(&self, path: &str, matches: impl Fn(&Value) -> bool, failure: &str) -> Value {
        let deadline = Instant::now() + DEADLINE;
        let mut after = None;
        loop {
            let (value, version) = self.read_after(path, after).await;
            if matches(&value) {
                return value;
            }
            assert!(Instant::now() < deadline, "{failure}: {path} is {value:#}");
            after = Some(version);
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
pub(super) fn about(entry: &Value, kind: &str, object: &str) -> bool {
    entry["type"] == kind && entry["object"]["id"] == object
}

pub(super) async fn status_on(perch: &Instance, token: &str, id: &str) -> (StatusCode, Value) {
    perch.get(&format!("/api/v1/statuses/{id}"), token).await
}

/// The ids of the statuses in the home timeline of the holder of `token`.
pub(super) async fn home_uris(perch: &Instance, token: &str) -> Vec<Value> {
    let (status, home) = perch.get("/api/v1/timelines/home", token).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    home.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["uri"].clone())
        .collect()
}

/// The local id on `perch` of the status at `uri`, found by search.
pub(super) async fn resolve_status(perch: &Instance, token: &str, uri: &str) -> String {
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
