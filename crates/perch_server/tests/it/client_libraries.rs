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
async fn run_client(
    script: &str,
    base_url: &str,
    login: &str,
    other: &str,
    env: &[(&str, &str)],
) -> Value {
    let child = Command::new("node")
        .arg(script)
        .arg(base_url)
        .arg(login)
        .arg(PASSWORD)
        .env("PERCH_TEST_OTHER", other)
        .env("PERCH_TEST_OTHER_PASSWORD", PASSWORD)
        .envs(env.iter().copied())
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

/// A `perch serve` process set up the operator's way (a database, `perch
/// serve`, `perch user create`), with the administrator alice and the
/// user bea.
struct Served {
    server: ServedPerch,
    alice_id: String,
    dir: tempfile::TempDir,
    database: TestDatabase,
}

impl Served {
    /// Start it with `extra` settings beside the database and data dir.
    async fn start(extra: &[(&str, &str)]) -> Served {
        let database = TestDatabase::create().await;
        let dir = tempfile::tempdir().expect("temporary dir");
        let data_dir = dir.path().join("data");
        let data_dir = data_dir.to_str().expect("utf-8 path");
        let mut vars = vec![
            ("PERCH_DATABASE_URL", database.url()),
            ("PERCH_DATA_DIR", data_dir),
            ("PERCH_ALLOW_PRIVATE_ADDRESSES", "true"),
        ];
        vars.extend(extra.iter().copied());
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
        let alice_id = stdout(&created)
            .split("(id ")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .expect("the new account's id")
            .to_owned();
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
        Served {
            server,
            alice_id,
            dir,
            database,
        }
    }

    /// Run `perch ARGS` against this server's database and data dir.
    async fn perch(&self, args: &[&str]) -> std::process::Output {
        let mut command = perch(self.dir.path());
        command
            .args(args)
            .env("PERCH_DATABASE_URL", self.database.url())
            .env("PERCH_DATA_DIR", self.dir.path().join("data"))
            .env("PERCH_PUBLIC_URL", &self.server.base_url);
        tokio::task::spawn_blocking(move || run_with_stdin(command, ""))
            .await
            .expect("perch ran")
    }
}

#[tokio::test]
async fn masto_js_signs_in_with_the_password_grant_and_reads_the_account() {
    if !libraries_installed("masto") {
        return;
    }
    // The temporary directory and the database live as long as the test.
    let Served {
        server,
        alice_id: id,
        dir: _dir,
        database: _database,
    } = Served::start(&[]).await;
    let domain = server.base_url.trim_start_matches("http://").to_owned();
    let read = run_client("masto.mjs", &server.base_url, "alice", "bea", &[]).await;

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
async fn masto_js_finds_its_way_around_tags_trends_suggestions_push_and_streams() {
    if !libraries_installed("masto") {
        return;
    }
    let served = Served::start(&[("PERCH_PUBLIC_DOMAIN_BLOCKS", "all")]).await;
    let picture = served.dir.path().join("dot.png");
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::new(8, 8))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("encodes");
    std::fs::write(&picture, png.into_inner()).expect("written");
    let picture = picture.to_str().expect("utf-8 path");
    let added = served
        .perch(&["emoji", "add", "--shortcode", "blobcat", "--file", picture])
        .await;
    assert!(added.status.success(), "{}", stderr(&added));

    let read = run_client(
        "masto-discovery.mjs",
        &served.server.base_url,
        "alice",
        "bea",
        &[("PERCH_TEST_PICTURE", picture)],
    )
    .await;
    let tagged = &read["home_expected"][0];
    let expected = serde_json::json!({
        "followed": ["perchtrend", true, "string"],
        "home": [tagged],
        "home_expected": [tagged],
        "tag_page": [true, 7],
        "followed_tags": ["perchtrend"],
        "featuring": true,
        "featured": ["perchtrend"],
        "featured_of_account": ["perchtrend"],
        "featured_after": 0,
        "suggested_tags": [],
        "unfollowed": false,
        "trending_tags": [["perchtrend", 7]],
        "trending_statuses": [tagged],
        "trending_links": 0,
        "suggested": [[true, ["most_interactions"]]],
        "suggested_after": 0,
        "custom_emojis": [["blobcat", true]],
        "peers": [],
        "activity": read["activity"],
        "domain_blocks": [["spam.example", "suspend", "spam"]],
        "vapid": "string",
        "push_created": [true, false, "followed"],
        "push_key": true,
        "push_changed": [true, true],
        "push_fetched": true,
        "push_removed": true,
        "source": ["unlisted", "de"],
        "preferences": ["unlisted", "de"],
        "defaulted": ["unlisted", "de"],
        "media_stream": [["public:media"], true, 1],
        "hashtag_local_stream": [["hashtag:local", "LiveTag"], true],
        "pinned": true,
        "pinned_listed": [true],
        "unpinned": false,
    });
    assert_eq!(read, expected, "{read}");
    let weeks = read["activity"].as_array().expect("weeks");
    assert!(
        !weeks.is_empty() && weeks.iter().all(|w| w == "string"),
        "{read}"
    );
}

#[tokio::test]
async fn masto_js_drives_v2_and_v1_filters() {
    if !libraries_installed("masto") {
        return;
    }
    let Served {
        server,
        dir: _dir,
        database: _database,
        ..
    } = Served::start(&[]).await;

    let read = run_client("masto-filters.mjs", &server.base_url, "alice", "", &[]).await;

    assert_eq!(read["library"], "masto", "{read}");
    let v2 = &read["v2"];
    assert_eq!(v2["title"], "masto.js TV", "{read}");
    assert_eq!(
        v2["context"],
        serde_json::json!(["home", "thread"]),
        "{read}"
    );
    assert_eq!(v2["action"], "warn", "{read}");
    assert_eq!(
        v2["keywords"],
        serde_json::json!([["finale", true]]),
        "the removed keyword is gone: {read}"
    );
    assert_eq!(v2["listed"], 1, "{read}");
    assert_eq!(
        v2["nested"],
        serde_json::json!({
            "keywords": ["finale", "recap"],
            "renamed": "recaps",
            "fetched": true,
            "statuses": [read["posted"]],
            "status": read["posted"],
        }),
        "{read}"
    );
    assert_eq!(v2["gone"], 404, "{read}");
    assert_eq!(v2["invalid"], 422, "{read}");
    assert_eq!(
        read["filtered"],
        serde_json::json!({
            "filter": v2["id"],
            "keyword_matches": ["finale"],
            "status_matches": [read["filtered_status"]],
        }),
        "{read}"
    );
    let v1 = &read["v1"];
    assert_eq!(
        v1["created"],
        serde_json::json!(["masto.js v1", ["public"], true, false]),
        "{read}"
    );
    assert_eq!(
        v1["listed"],
        serde_json::json!(["finale", "masto.js v1"]),
        "{read}"
    );
    assert_eq!(
        v1["updated"],
        serde_json::json!(["masto.js v1 changed", ["notifications", "public"], false]),
        "{read}"
    );
    assert_eq!(v1["fetched"], "masto.js v1 changed", "{read}");
    assert_eq!(v1["gone"], 404, "{read}");
    assert!(server.terminate().success(), "perch serve stops cleanly");
}

#[tokio::test]
async fn masto_js_drives_conversations_scheduled_statuses_and_announcements() {
    if !libraries_installed("masto") {
        return;
    }
    let served = Served::start(&[]).await;
    // The staff's announcement, as an operator publishes it.
    let announced = served
        .perch(&["announcement", "add", "--text", "Hello from the staff"])
        .await;
    assert!(announced.status.success(), "{}", stderr(&announced));

    let read = run_client(
        "masto-conversations.mjs",
        &served.server.base_url,
        "alice",
        "bea",
        &[],
    )
    .await;

    assert_eq!(read["library"], "masto", "{read}");
    assert_eq!(
        read["conversations"],
        serde_json::json!({
            "event": [["direct"], "conversation"],
            "event_conversation": {
                "id_is_string": true,
                "unread": true,
                "accounts": ["alice"],
                "last_status_is_posted": true,
            },
            "listed": [[true, ["alice"], true]],
            "same_as_event": true,
            "own": [[false, ["bea"]]],
            "read": false,
            "after_remove": 0,
            "own_after": 1,
        }),
        "{read}"
    );
    assert_eq!(
        read["scheduled"],
        serde_json::json!({
            "made": {
                "id_is_string": true,
                "scheduled_at": true,
                "text": "later, from masto.js",
                "visibility": "unlisted",
                "media": [],
            },
            "listed": [true],
            "moved": true,
            "fetched": true,
            "too_soon": 422,
            "after_remove": 0,
        }),
        "{read}"
    );
    assert_eq!(
        read["announcements"],
        serde_json::json!({
            "listed": [["<p>Hello from the staff</p>", false, 0]],
            "read_after": true,
            "reactions": [["👍", 1, true]],
            "reactions_after": 0,
        }),
        "{read}"
    );
    let Served {
        server,
        dir: _dir,
        database: _database,
        ..
    } = served;
    assert!(server.terminate().success(), "perch serve stops cleanly");
}

#[tokio::test]
async fn masto_js_reads_grouped_notifications_and_answers_notification_requests() {
    if !libraries_installed("masto") {
        return;
    }
    let served = Served::start(&[]).await;
    let (dir_path, url, public) = (
        served.dir.path().to_owned(),
        served.database.url().to_owned(),
        served.server.base_url.clone(),
    );
    tokio::task::spawn_blocking(move || {
        create_user_with_binary(&dir_path, &url, &public, "cy", PASSWORD)
    })
    .await
    .expect("perch user create ran");
    let server = &served.server;

    let read = run_client(
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
    let Served {
        server,
        dir: _dir,
        database: _database,
        ..
    } = served;
    assert!(server.terminate().success(), "perch serve stops cleanly");
}
