//! The `perch` binary as an operator meets it: start-up errors, the CLI's
//! subcommands, serving with no configuration, and shutdown on SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use perch_db::testing::TestDatabase;

use crate::support::{perch, run_with_stdin, stderr, stdout, wait_with_deadline};

const DEADLINE: Duration = Duration::from_secs(60);

/// Run `perch serve` with `vars` and expect exactly one `error: …` line
/// containing `expected`, and exit status 1.
fn assert_startup_fails(vars: &[(&str, &str)], expected: &str) {
    let dir = tempfile::tempdir().expect("temporary dir");
    let mut command = perch(dir.path());
    command.arg("serve").env("PERCH_BIND", "127.0.0.1:0");
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = run_with_stdin(command, "");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{vars:?}: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected, got: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains(expected),
        "{vars:?}: expected `{expected}` in: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unparsable_public_url() {
    assert_startup_fails(
        &[("PERCH_PUBLIC_URL", "not a url")],
        "PERCH_PUBLIC_URL: `not a url` is not a valid URL",
    );
}

#[test]
fn public_url_with_a_path_or_query() {
    assert_startup_fails(
        &[("PERCH_PUBLIC_URL", "https://example.com/social")],
        "PERCH_PUBLIC_URL: `https://example.com/social` must not have a path",
    );
    assert_startup_fails(
        &[("PERCH_PUBLIC_URL", "https://example.com/?instance=1")],
        "must not have a query",
    );
}

#[test]
fn unparsable_database_url_and_bind_address() {
    assert_startup_fails(
        &[("PERCH_DATABASE_URL", "mysql://perch@localhost/perch")],
        "PERCH_DATABASE_URL: unsupported scheme `mysql`",
    );
    assert_startup_fails(&[("PERCH_BIND", "everywhere")], "PERCH_BIND: `everywhere`");
}

#[test]
fn unreachable_postgres() {
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    assert_startup_fails(
        &[(
            "PERCH_DATABASE_URL",
            "postgres://perch:hunter2@127.0.0.1:1/perch",
        )],
        "cannot connect to the database at postgres://perch:****@127.0.0.1:1/perch",
    );
}

#[test]
fn unreachable_sqlite_file() {
    let dir = tempfile::tempdir().expect("temporary dir");
    let url = format!("sqlite://{}/missing/dir/perch.db", dir.path().display());
    assert_startup_fails(
        &[("PERCH_DATABASE_URL", &url)],
        "cannot connect to the database at",
    );
}

#[test]
fn unwritable_data_dir() {
    // A path below a regular file can never be created, even by root.
    let dir = tempfile::tempdir().expect("temporary dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a directory").expect("write file");
    let data_dir = file.join("data");
    assert_startup_fails(
        &[("PERCH_DATA_DIR", data_dir.to_str().expect("utf-8 path"))],
        &format!(
            "PERCH_DATA_DIR: cannot use {} as the data directory",
            data_dir.display()
        ),
    );
}

#[test]
fn port_in_use() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("address").to_string();
    let data = tempfile::tempdir().expect("temporary dir");
    assert_startup_fails(
        &[
            ("PERCH_BIND", &addr),
            ("PERCH_DATA_DIR", data.path().to_str().expect("utf-8 path")),
        ],
        &format!("cannot listen on {addr}: Address already in use"),
    );
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().expect("temporary dir");
    let output = run_with_stdin(
        {
            let mut c = perch(dir.path());
            c.arg("--version");
            c
        },
        "",
    );
    assert!(output.status.success());
    assert_eq!(
        stdout(&output).trim(),
        format!("perch {}", env!("CARGO_PKG_VERSION"))
    );
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["user", "--help"],
        &["user", "create", "--help"],
        &["user", "list", "--help"],
        &["config", "check", "--help"],
    ] {
        let mut command = perch(dir.path());
        command.args(args);
        let output = run_with_stdin(command, "");
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage: perch"), "{args:?}");
    }
}

/// The README's promise: `perch` with no configuration at all serves
/// `/health` from SQLite under ./data, and stops cleanly on SIGTERM.
#[test]
fn serves_with_no_configuration_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temporary dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut command = perch(dir.path());
    // Only the port differs from the defaults, so parallel tests do not collide.
    command
        .env("PERCH_BIND", format!("127.0.0.1:{port}"))
        .env("PERCH_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("perch starts");

    let health = format!("http://127.0.0.1:{port}/health");
    let started = Instant::now();
    let status = loop {
        match probe::http_status(&health) {
            Some(status) => break status,
            None if started.elapsed() < DEADLINE => std::thread::yield_now(),
            None => panic!("perch did not answer /health within {DEADLINE:?}"),
        }
    };
    assert_eq!(status, 200);
    assert!(dir.path().join("data/perch.db").is_file());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let output = wait_with_deadline(child, DEADLINE);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("shutdown complete"), "{err}");
}

/// A blocking GET that returns the status, or None while nothing listens.
mod probe {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    pub fn http_status(url: &str) -> Option<u16> {
        let rest = url.strip_prefix("http://")?;
        let (host, path) = rest.split_once('/')?;
        let mut stream = TcpStream::connect(host).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        response.split_whitespace().nth(1)?.parse().ok()
    }
}

fn with_database(dir: &std::path::Path, database: &TestDatabase, args: &[&str]) -> Command {
    let mut command = perch(dir);
    command
        .args(args)
        .env("PERCH_DATABASE_URL", database.url())
        .env("PERCH_DATA_DIR", dir.join("data"))
        .env("PERCH_PUBLIC_URL", "https://perch.example");
    command
}

#[tokio::test]
async fn user_create_and_list() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let dir = dir.path();

    let create = |args: &[&str], stdin: &str| {
        let mut full = vec!["user", "create"];
        full.extend_from_slice(args);
        run_with_stdin(with_database(dir, &database, &full), stdin)
    };

    let output = create(
        &[
            "--username",
            "Alice",
            "--email",
            "alice@example.com",
            "--password-stdin",
            "--admin",
        ],
        "a long enough password\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("created admin @Alice@perch.example (id "));

    // No --password-stdin: a password is generated and shown once.
    let output = create(&["--username", "bob", "--email", "bob@example.com"], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = stdout(&output);
    let password = shown
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password printed");
    assert_eq!(password.len(), 24);

    // Refusals, each with one clear line and status 1, and nothing written.
    for (args, stdin, expected) in [
        (
            &[
                "--username",
                "alice",
                "--email",
                "other@example.com",
                "--password-stdin",
            ][..],
            "another password\n",
            "username is already taken",
        ),
        (
            &[
                "--username",
                "carol",
                "--email",
                "ALICE@example.com",
                "--password-stdin",
            ],
            "another password\n",
            "email address is already in use",
        ),
        (
            &[
                "--username",
                "no spaces",
                "--email",
                "x@example.com",
                "--password-stdin",
            ],
            "another password\n",
            "--username: username must be 1 to 30 characters",
        ),
        (
            &[
                "--username",
                "dave",
                "--email",
                "not-an-email",
                "--password-stdin",
            ],
            "another password\n",
            "--email: email address is not valid",
        ),
        (
            &[
                "--username",
                "erin",
                "--email",
                "erin@example.com",
                "--password-stdin",
            ],
            "short\n",
            "password: password must be 8 to 128 characters long",
        ),
    ] {
        let output = create(args, stdin);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    let output = run_with_stdin(with_database(dir, &database, &["user", "list"]), "");
    assert!(output.status.success(), "{}", stderr(&output));
    let listing = stdout(&output);
    let rows: Vec<&str> = listing
        .lines()
        .skip(1)
        .filter(|l| !l.ends_with("user(s)"))
        .collect();
    assert_eq!(rows.len(), 2, "{listing}");
    assert!(rows[0].contains("Alice") && rows[0].contains("alice@example.com"));
    assert!(
        rows[0].split_whitespace().nth(3) == Some("admin"),
        "role: {}",
        rows[0]
    );
    assert!(rows[1].contains("bob") && rows[1].split_whitespace().nth(3) == Some("user"));

    // Roles by name, through `user role` and `user create --role`.
    let output = run_with_stdin(
        with_database(
            dir,
            &database,
            &["user", "role", "--username", "bob", "--role", "moderator"],
        ),
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "@bob is now moderator");
    let output = run_with_stdin(
        with_database(
            dir,
            &database,
            &["user", "role", "--username", "bob", "--role", "root"],
        ),
        "",
    );
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap refuses an unknown role"
    );
    assert!(
        stderr(&output).contains("unknown role"),
        "{}",
        stderr(&output)
    );
    let output = create(
        &[
            "--username",
            "olga",
            "--email",
            "olga@example.com",
            "--role",
            "owner",
        ],
        "",
    );
    assert!(
        stdout(&output).starts_with("created owner @olga@perch.example"),
        "{}",
        stdout(&output)
    );
    let output = run_with_stdin(with_database(dir, &database, &["user", "list"]), "");
    let listing = stdout(&output);
    assert!(
        listing
            .lines()
            .any(|l| l.contains("bob") && l.split_whitespace().nth(3) == Some("moderator")),
        "{listing}"
    );
    assert!(listing.trim_end().ends_with("3 user(s)"), "{listing}");
}

#[tokio::test]
async fn migrate_is_idempotent_and_config_check_reports() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let dir = dir.path();

    let first = run_with_stdin(with_database(dir, &database, &["migrate"]), "");
    assert!(first.status.success(), "{}", stderr(&first));
    let applied: usize = stdout(&first)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a count of migrations");
    assert!(applied >= 1, "{}", stdout(&first));
    let second = run_with_stdin(with_database(dir, &database, &["migrate"]), "");
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).starts_with("0 migration(s) applied"),
        "{}",
        stdout(&second)
    );

    let check = run_with_stdin(with_database(dir, &database, &["config", "check"]), "");
    assert!(check.status.success(), "{}", stderr(&check));
    let report = stdout(&check);
    assert!(
        report.contains("federation domain: perch.example"),
        "{report}"
    );
    assert!(report.contains("configuration OK"), "{report}");
}

#[test]
fn config_file_is_read_and_environment_wins() {
    let dir = tempfile::tempdir().expect("temporary dir");
    std::fs::write(
        dir.path().join("perch.toml"),
        "public_url = \"https://from-file.example\"\nlog = \"warn\"\n",
    )
    .expect("write perch.toml");
    let output = run_with_stdin(
        {
            let mut c = perch(dir.path());
            c.args(["config", "check"]);
            c
        },
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("federation domain: from-file.example"));

    let mut command = perch(dir.path());
    command
        .args(["config", "check"])
        .env("PERCH_PUBLIC_URL", "https://from-env.example");
    let output = run_with_stdin(command, "");
    assert!(stdout(&output).contains("federation domain: from-env.example"));

    let mut command = perch(dir.path());
    command.args(["--config", "missing.toml", "config", "check"]);
    let output = run_with_stdin(command, "");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("configuration file missing.toml does not exist"));
}

#[tokio::test]
async fn token_keys_rotate() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let dir = dir.path();
    let migrate = run_with_stdin(with_database(dir, &database, &["migrate"]), "");
    assert!(migrate.status.success(), "{}", stderr(&migrate));
    let first = run_with_stdin(with_database(dir, &database, &["token-keys", "rotate"]), "");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("retired 0 key(s); new tokens are signed with key "));
    let second = run_with_stdin(with_database(dir, &database, &["token-keys", "rotate"]), "");
    assert!(second.status.success(), "{}", stderr(&second));
    let kid = |out: &std::process::Output| {
        stdout(out)
            .trim()
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        stdout(&second).starts_with("retired 1 key(s)"),
        "{}",
        stdout(&second)
    );
    assert_ne!(kid(&first), kid(&second));

    let db = database.connect().await;
    let keys = perch_db::jwt_keys::all(&db).await.expect("keys");
    assert_eq!(
        keys.len(),
        2,
        "the retired key stays, to verify tokens it signed"
    );
    assert_eq!(keys.iter().filter(|k| k.retired_at.is_none()).count(), 1);
}

#[tokio::test]
async fn rules_are_added_listed_and_removed() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let dir = dir.path();
    let rule = |args: &[&str]| {
        let mut full = vec!["rule"];
        full.extend_from_slice(args);
        run_with_stdin(with_database(dir, &database, &full), "")
    };
    let added = rule(&["add", "--text", "No spam", "--hint", "Ads included"]);
    assert!(added.status.success(), "{}", stderr(&added));
    let id = stdout(&added)
        .trim()
        .strip_prefix("added rule ")
        .expect("the new rule's id")
        .to_owned();
    assert!(rule(&["add", "--text", "Be kind"]).status.success());
    let listed = stdout(&rule(&["list"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].starts_with(&id) && lines[0].ends_with("No spam"),
        "{listed}"
    );
    let empty = rule(&["add", "--text", "  "]);
    assert_eq!(empty.status.code(), Some(1));
    assert!(stderr(&empty).contains("1 to 300 characters"));
    assert!(rule(&["remove", "--id", &id]).status.success());
    let gone = rule(&["remove", "--id", &id]);
    assert_eq!(
        gone.status.code(),
        Some(1),
        "a removed rule is not there to remove"
    );
    let listed = stdout(&rule(&["list"]));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("Be kind"));
}

#[tokio::test]
async fn admin_commands_act_on_accounts_and_servers() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let dir = dir.path();
    let run = |args: &[&str]| run_with_stdin(with_database(dir, &database, args), "");
    let created = run(&[
        "user",
        "create",
        "--username",
        "bob",
        "--email",
        "bob@example.com",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));

    let suspended = run(&[
        "admin",
        "account",
        "--account",
        "bob",
        "--action",
        "suspend",
    ]);
    assert!(suspended.status.success(), "{}", stderr(&suspended));
    let db = database.connect().await;
    let bob = perch_db::accounts::find_local_by_username(&db, "bob")
        .await
        .expect("query")
        .expect("bob");
    assert!(bob.suspended_at.is_some());
    let undone = run(&[
        "admin",
        "account",
        "--account",
        "@bob",
        "--action",
        "unsuspend",
    ]);
    assert!(undone.status.success(), "{}", stderr(&undone));
    let bob = perch_db::accounts::find_local_by_username(&db, "bob")
        .await
        .expect("query")
        .expect("bob");
    assert!(bob.suspended_at.is_none());
    let unknown = run(&[
        "admin",
        "account",
        "--account",
        "nobody",
        "--action",
        "silence",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no account @nobody"),
        "{}",
        stderr(&unknown)
    );
    let bad = run(&[
        "admin",
        "account",
        "--account",
        "bob",
        "--action",
        "obliterate",
    ]);
    assert_eq!(bad.status.code(), Some(2), "clap refuses an unknown action");

    let added = run(&[
        "admin",
        "domain-block",
        "add",
        "--domain",
        "Spam.Example",
        "--severity",
        "silence",
        "--reject-reports",
    ]);
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(stdout(&added).trim(), "blocked spam.example (silence)");
    let listed = stdout(&run(&["admin", "domain-block", "list"]));
    assert!(
        listed.starts_with("spam.example") && listed.contains("reports rejected"),
        "{listed}"
    );
    let again = run(&["admin", "domain-block", "add", "--domain", "spam.example"]);
    assert_eq!(again.status.code(), Some(1), "already blocked");
    let removed = run(&[
        "admin",
        "domain-block",
        "remove",
        "--domain",
        "spam.example",
    ]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(stdout(&run(&["admin", "domain-block", "list"])), "");
    let reports = run(&["admin", "reports"]);
    assert!(reports.status.success(), "{}", stderr(&reports));
    assert_eq!(stdout(&reports).trim(), "0 open report(s)");
    let missing = run(&["admin", "report", "--id", "12345"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("no report 12345"),
        "{}",
        stderr(&missing)
    );

    let allowed = run(&[
        "admin",
        "domain-allow",
        "add",
        "--domain",
        "Friends.Example",
    ]);
    assert!(allowed.status.success(), "{}", stderr(&allowed));
    assert_eq!(
        stdout(&run(&["admin", "domain-allow", "list"])).trim(),
        "friends.example"
    );
    let removed = run(&[
        "admin",
        "domain-allow",
        "remove",
        "--domain",
        "friends.example",
    ]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(stdout(&run(&["admin", "domain-allow", "list"])), "");
    let again = run(&[
        "admin",
        "domain-allow",
        "remove",
        "--domain",
        "friends.example",
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("not allowed"), "{}", stderr(&again));
}

#[tokio::test]
async fn a_report_is_resolved_and_reopened_from_the_command_line() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let dir = dir.path();
    let run = |args: &[&str]| run_with_stdin(with_database(dir, &database, args), "");
    for name in ["ann", "ben"] {
        let email = format!("{name}@example.com");
        assert!(
            run(&["user", "create", "--username", name, "--email", &email])
                .status
                .success()
        );
    }
    let db = database.connect().await;
    let find = |name: &'static str| {
        let db = &db;
        async move {
            perch_db::accounts::find_local_by_username(db, name)
                .await
                .expect("query")
                .expect("stored")
        }
    };
    let (ann, ben) = (find("ann").await, find("ben").await);
    let mut tx = db.begin().await.expect("tx");
    let report = perch_db::reports::NewReport {
        id: 77,
        account_id: ann.id,
        target_account_id: ben.id,
        uri: None,
        comment: "rude",
        category: "other",
        forwarded: false,
        status_ids: &[],
        rule_ids: &[],
        created_at: 1,
    };
    assert!(
        perch_db::reports::insert(&mut tx, &report)
            .await
            .expect("stored")
    );
    tx.commit().await.expect("commit");
    let listed = stdout(&run(&["admin", "reports"]));
    assert!(listed.contains("@ann reports @ben: rude"), "{listed}");
    let resolved = run(&["admin", "report", "--id", "77"]);
    assert!(resolved.status.success(), "{}", stderr(&resolved));
    let row = perch_db::reports::find(&db, 77)
        .await
        .expect("q")
        .expect("row");
    assert!(row.action_taken_at.is_some());
    assert_eq!(
        stdout(&run(&["admin", "reports"])).trim(),
        "0 open report(s)"
    );
    assert!(
        run(&["admin", "report", "--id", "77", "--reopen"])
            .status
            .success()
    );
    let row = perch_db::reports::find(&db, 77)
        .await
        .expect("q")
        .expect("row");
    assert!(row.action_taken_at.is_none());
}

/// `perch user delete` deletes as the API does: the account is emptied,
/// marked deleted, its Delete queued for the servers that know it, and its
/// name stays taken.
#[tokio::test]
async fn the_cli_deletes_an_account_and_keeps_its_name_taken() {
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("temporary dir");
    let dir = dir.path();
    let run = |args: &[&str]| run_with_stdin(with_database(dir, &database, args), "");
    let create = |username: &str| {
        run(&[
            "user",
            "create",
            "--username",
            username,
            "--email",
            &format!("{username}@example.com"),
        ])
    };
    let created = create("dana");
    assert!(created.status.success(), "{}", stderr(&created));

    let deleted = run(&["user", "delete", "--username", "Dana"]);
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert_eq!(stdout(&deleted).trim(), "deleted @dana");
    let db = database.connect().await;
    let dana = perch_db::accounts::find_local_by_username(&db, "dana")
        .await
        .expect("query")
        .expect("the row stays");
    assert!(dana.deleted_at.is_some() && dana.suspended_at.is_some());
    assert!(
        perch_db::users::find_by_account_id(&db, dana.id)
            .await
            .expect("query")
            .is_none(),
        "no credentials are left"
    );

    let again = run(&["user", "delete", "--username", "dana"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("no local user named dana"),
        "{}",
        stderr(&again)
    );
    let reused = create("dana");
    assert!(!reused.status.success(), "the name is not given again");
    db.close().await;
}
