//! Acceptance: real Mastodon client libraries, run by Node.js, against a
//! running `perch serve` process. Each script in this crate's
//! `tests/clients/` registers an app, signs in with the password grant and
//! reads the account and the instance through the library's own HTTP code;
//! this test checks what it read.
//!
//! The libraries come from `npm ci` in `tests/clients` (`scripts/test` runs
//! it). Without them the test fails under `CI=true` and is skipped
//! otherwise, so a plain `cargo test` works on a machine without Node.js.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use perch_db::testing::TestDatabase;

use crate::support::{
    ServedPerch, create_user_with_binary, perch, run_with_stdin, stderr, stdout, wait_with_deadline,
};

const PASSWORD: &str = "correct horse battery staple";
const DEADLINE: Duration = Duration::from_secs(120);

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Whether the libraries can run here; a missing piece is a failure under
/// `CI=true` and a notice otherwise.
fn libraries_installed(library: &str) -> bool {
    let dir = clients_dir();
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let problem = if !matches!(node, Ok(status) if status.success()) {
        "node is not on PATH: install Node.js (20 or later), then run npm ci in \
         crates/perch_server/tests/clients"
    } else if !dir.join("node_modules").join(library).is_dir() {
        "tests/clients/node_modules is missing: run npm ci in crates/perch_server/tests/clients (scripts/test does)"
    } else {
        return true;
    };
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{problem}");
    eprintln!("skipping the {library} client-library test: {problem}");
    false
}

/// Run `node tests/clients/<script> BASE_URL LOGIN PASSWORD` and return the
/// JSON line it printed, failing with its output if it did not succeed.
async fn run_client(script: &str, base_url: &str, login: &str, other: &str) -> Value {
    run_client_with(script, base_url, login, other, &[]).await
}

/// [`run_client`] with more environment variables for the script.
async fn run_client_with(
    script: &str,
    base_url: &str,
    login: &str,
    other: &str,
    vars: &[(&str, &str)],
) -> Value {
    let child = Command::new("node")
        .arg(script)
        .arg(base_url)
        .arg(login)
        .arg(PASSWORD)
        .env("PERCH_TEST_OTHER", other)
        .env("PERCH_TEST_OTHER_PASSWORD", PASSWORD)
        .envs(vars.iter().copied())
        .current_dir(clients_dir())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    // The server answers on this runtime: wait for node off it.
    let output = tokio::task::spawn_blocking(move || wait_with_deadline(child, DEADLINE))
        .await
        .expect("node finished within the deadline");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    let line = stdout
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_else(|| panic!("{script} printed nothing; stderr:\n{stderr}"));
    serde_json::from_str(line).unwrap_or_else(|error| panic!("{script} printed {line:?}: {error}"))
}

#[tokio::test]
async fn masto_js_signs_in_with_the_password_grant_and_reads_the_account() {
    if !libraries_installed("masto") {
        return;
    }
    // The operator's way: a database, `perch serve`, `perch user create`.
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let data_dir = dir.path().join("data");
    let data_dir = data_dir.to_str().expect("utf-8 path");
    let vars = [
        ("PERCH_DATABASE_URL", database.url()),
        ("PERCH_DATA_DIR", data_dir),
        ("PERCH_ALLOW_PRIVATE_ADDRESSES", "true"),
    ];
    let server = ServedPerch::start(dir.path(), &vars);
    let mut create = perch(dir.path());
    create
        .args([
            "user",
            "create",
            "--username",
            "alice",
            "--email",
            "alice@example.com",
            "--role",
            "admin",
        ])
        .arg("--password-stdin")
        .envs(vars)
        .env("PERCH_PUBLIC_URL", &server.base_url);
    let created =
        tokio::task::spawn_blocking(move || run_with_stdin(create, &format!("{PASSWORD}\n")))
            .await
            .expect("perch user create ran");
    assert!(created.status.success(), "{}", stderr(&created));
    let id = stdout(&created)
        .split("(id ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the new account's id")
        .to_owned();
    let domain = server.base_url.trim_start_matches("http://").to_owned();
    // A second account, for alice to block and mute.
    let (dir_path, url, public) = (
        dir.path().to_owned(),
        database.url().to_owned(),
        server.base_url.clone(),
    );
    tokio::task::spawn_blocking(move || {
        create_user_with_binary(&dir_path, &url, &public, "bea", PASSWORD)
    })
    .await
    .expect("perch user create ran");

    let read = run_client("masto.mjs", &server.base_url, "alice", "bea").await;

    assert_eq!(read["library"], "masto", "{read}");
    assert_eq!(read["id"], id, "{read}");
    assert_eq!(read["username"], "alice", "{read}");
    assert_eq!(
        read["acct"], "alice",
        "a local account's acct has no domain"
    );
    assert_eq!(read["app"], "masto.js acceptance test", "{read}");
    assert_eq!(
        read["scope"], "read write follow push admin:read admin:write",
        "in the order asked for: {read}"
    );
    assert_eq!(read["instance_uri"], domain.as_str(), "{read}");
    assert_eq!(read["instance_domain"], domain.as_str(), "{read}");
    assert!(
        read["version"].as_str().is_some_and(|v| !v.is_empty()),
        "{read}"
    );
    assert_eq!(read["streaming"], format!("ws://{domain}"), "{read}");
    assert_eq!(read["revoked"], true, "{read}");
    let posted = read["posted"].as_array().expect("posted ids");
    assert_eq!(
        read["paged"],
        serde_json::json!([posted[1], posted[0]]),
        "the home timeline, newest first, one page per status: {read}"
    );
    assert_eq!(
        read["descendants"],
        serde_json::json!([posted[1]]),
        "{read}"
    );
    assert_eq!(
        read["kept"],
        serde_json::json!({
            "blocked": true,
            "listed_blocked": true,
            "unblocked": true,
            "muted": true,
            "muting_notifications": false,
            "listed_muted": true,
            "relationship_muting": true,
            "unmuted": true,
            "domain_blocks": ["spam.example"],
            "domain_blocks_after": [],
            "conversation_muted": true,
            "conversation_unmuted": true,
            "reported": true,
            "queued": true,
            "assigned": true,
            "resolved": true,
            "reopened": true,
            "silenced": true,
            "unsilenced": true,
            "listed_silenced": 0,
            "domain_block": ["spam.example", "suspend", true],
            "domain_block_changed": "silence",
            "domain_blocks_listed": ["spam.example"],
            "domain_blocks_left": 0,
            "domain_allowed": "friends.example",
            "domain_allows_left": 0,
        }),
        "{read}"
    );
    assert_eq!(
        read["poll"],
        serde_json::json!({
            "options": ["tea", "coffee"],
            "ends": true,
            "own_votes": [1],
            "votes": [0, 1],
            "voters": 1,
            "own_vote": 422,
        }),
        "{read}"
    );
    let everyday = &read["everyday"];
    let first = &posted[0];
    let (one, two) = (&everyday["posted"][0], &everyday["posted"][1]);
    let list_id = everyday["list_id"].as_str().expect("a list id");
    assert_eq!(
        everyday,
        &serde_json::json!({
            "bookmarked": true,
            "bookmarks": [first],
            "unbookmarked": true,
            "bookmarks_after": 0,
            "following": true,
            "list": ["masto.js list", "followed", false],
            "renamed": "renamed",
            "fetched_list": ["renamed", true],
            "members": ["bea"],
            "lists_of_member": [true],
            "lists": ["renamed"],
            "posted": [one, two],
            "list_timeline": [two, one],
            "list_id": list_id,
            "list_stream": [["list", list_id], "update", true],
            "member_at_home": false,
            "members_after": 0,
            "lists_after": 0,
            "unread_added": 1,
            "marker": true,
            "unread_after": 0,
            "preferences": {
                "posting:default:visibility": "public",
                "posting:default:sensitive": false,
                "posting:default:language": "en",
                "reading:expand:media": "default",
                "reading:expand:spoilers": false,
            },
            "search": ["bea"],
            "multi": [two, first],
            "multi_expected": [two, first],
            "note": "from masto.js",
        }),
        "{read}"
    );
    assert!(server.terminate().success(), "perch serve stops cleanly");
}

#[tokio::test]
async fn masto_js_reads_grouped_notifications_and_answers_notification_requests() {
    if !libraries_installed("masto") {
        return;
    }
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let data_dir = dir.path().join("data");
    let data_dir = data_dir.to_str().expect("utf-8 path");
    let vars = [
        ("PERCH_DATABASE_URL", database.url()),
        ("PERCH_DATA_DIR", data_dir),
        ("PERCH_ALLOW_PRIVATE_ADDRESSES", "true"),
    ];
    let server = ServedPerch::start(dir.path(), &vars);
    let (dir_path, url, public) = (
        dir.path().to_owned(),
        database.url().to_owned(),
        server.base_url.clone(),
    );
    tokio::task::spawn_blocking(move || {
        for name in ["alice", "bea", "cy"] {
            create_user_with_binary(&dir_path, &url, &public, name, PASSWORD);
        }
    })
    .await
    .expect("perch user create ran");

    let read = run_client_with(
        "masto-notifications.mjs",
        &server.base_url,
        "alice",
        "bea",
        &[("PERCH_TEST_THIRD", "cy")],
    )
    .await;

    assert_eq!(read["library"], "masto", "{read}");
    let grouped = &read["grouped"];
    assert_eq!(
        grouped["pages"][0],
        serde_json::json!(["mention", "follow"]),
        "{read}"
    );
    assert_eq!(
        grouped["pages"][1],
        serde_json::json!(["reblog", "favourite"]),
        "{read}"
    );
    assert!(
        grouped["pages"]
            .as_array()
            .expect("pages")
            .iter()
            .skip(2)
            .all(|page| page == &serde_json::json!([])),
        "nothing past the last group: {read}"
    );
    let bea_id = grouped["samples"][0].clone();
    assert!(bea_id.is_string(), "{read}");
    assert_eq!(
        grouped,
        &serde_json::json!({
            "pages": grouped["pages"],
            "key_prefix": true,
            "count": 1,
            "samples": [bea_id],
            "status_listed": true,
            "mention_status": true,
            "accounts": ["bea"],
            "ungrouped_keys": [true],
            "one": [[true, "favourite"]],
            "group_accounts": ["bea"],
            "unread": 4,
            "after_dismiss": ["mention", "follow", "reblog"],
        }),
        "{read}"
    );
    assert_eq!(
        read["policy"],
        serde_json::json!({
            "initial": ["accept", "filter"],
            "updated": "filter",
            "v1": [true, false],
            "v1_updated": true,
        }),
        "{read}"
    );
    let requests = &read["requests"];
    let mut listed = requests["listed"].as_array().expect("listed").clone();
    listed.sort_by_key(|r| r[0].as_str().unwrap_or_default().to_owned());
    assert_eq!(
        listed,
        [
            serde_json::json!(["bea", "1"]),
            serde_json::json!(["cy", "1"])
        ],
        "{read}"
    );
    assert_eq!(
        requests,
        &serde_json::json!({
            "listed": requests["listed"],
            "summary": {"pendingRequestsCount": 2, "pendingNotificationsCount": 2},
            "fetched": [true, true],
            "hidden": 0,
            "merged": true,
            "dismissed_one": {},
            "after": 0,
            "merged_in": true,
            "accepted_many": 0,
        }),
        "{read}"
    );
    assert!(server.terminate().success(), "perch serve stops cleanly");
}
