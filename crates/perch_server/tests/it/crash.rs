//! Killing a `perch serve` process with SIGKILL in the middle of a fan-out
//! and starting it again loses nothing and duplicates nothing on the
//! receiving instance.
//!
//! The sender is the real binary with its own database; the receiver is a
//! server in this process behind a small reverse proxy that answers inbox
//! requests slowly, so that the fan-out takes long enough to be cut.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use perch_db::accounts;
use perch_db::actors;
use perch_db::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{
    ServedPerch, TestApp, create_user_with_binary, perch, run_with_stdin, spawn_app_with, stdout,
};

/// Accounts on the receiving side, each followed by one Follow activity.
const FOLLOWED: usize = 40;
/// Inbox requests the proxy lets through before the kill.
const BEFORE_KILL: usize = 6;
const PASSWORD: &str = "a long enough password";

/// A reverse proxy on 127.0.0.1 that forwards everything to `target`,
/// keeping the Host header (signatures cover it). Each inbox request takes
/// a permit of `gate` first, so the test decides how much of the fan-out
/// gets through before the kill.
async fn gated_proxy(listener: tokio::net::TcpListener, target: String, gate: Arc<Semaphore>) {
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let client = client.clone();
        let target = target.clone();
        let gate = gate.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            if parts.uri.path().ends_with("/inbox") {
                if let Ok(permit) = gate.acquire().await {
                    permit.forget();
                }
            }
            let url = format!(
                "{target}{}",
                parts.uri.path_and_query().map_or("/", |p| p.as_str())
            );
            let mut forwarded = client.request(parts.method, url).body(body);
            for (name, value) in &parts.headers {
                forwarded = forwarded.header(name, value);
            }
            match forwarded.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let bytes = response.bytes().await.unwrap_or_default();
                    let mut answer = axum::response::Response::new(axum::body::Body::from(bytes));
                    *answer.status_mut() = status;
                    *answer.headers_mut() = headers;
                    answer
                }
                Err(_) => {
                    let mut answer = axum::response::Response::new(axum::body::Body::empty());
                    *answer.status_mut() = StatusCode::BAD_GATEWAY;
                    answer
                }
            }
        }
    });
    axum::serve(listener, app).await.expect("proxy serves");
}

/// How many follows of the sender's user the receiver has applied.
async fn follows_applied(receiver: &TestApp, sender_actor: &str) -> i64 {
    match actors::find_by_uri(&receiver.db, sender_actor)
        .await
        .expect("query")
    {
        Some(row) => accounts::find_by_id(&receiver.db, perch_core::id::Id::from_i64(row.id))
            .await
            .expect("query")
            .map_or(0, |a| a.following_count),
        None => 0,
    }
}

/// Wait, with a deadline, until the receiver has applied at least `count`
/// of the sender's Follows. Each applied Follow notifies its target, and
/// the notification's live event wakes this up to count again.
async fn until_applied(
    receiver: &TestApp,
    events: &mut tokio::sync::broadcast::Receiver<perch_db::live::LiveEvent>,
    sender_actor: &str,
    count: i64,
) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while follows_applied(receiver, sender_actor).await < count {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(error)) => panic!("the receiver's events ended: {error}"),
            Err(_) => panic!("fewer than {count} Follows applied within the deadline"),
        }
    }
}

#[tokio::test]
async fn sigkill_in_the_middle_of_a_fan_out_loses_and_duplicates_nothing() {
    // The receiver, reachable only through the gated proxy.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let proxy_url = format!("http://{}", proxy.local_addr().expect("address"));
    let public = proxy_url.clone();
    let receiver = spawn_app_with(move |config| {
        config.public_url = public.parse().expect("url");
    })
    .await;
    let gate = Arc::new(Semaphore::new(0));
    tokio::spawn(gated_proxy(proxy, receiver.base_url.clone(), gate.clone()));
    let mut events = receiver.bus.subscribe();
    for n in 0..FOLLOWED {
        receiver.create_user(&format!("user{n}"), PASSWORD).await;
    }

    // The sender: the real binary, its own database, a short lease.
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let sender_url = format!("http://127.0.0.1:{port}");
    let bind = format!("127.0.0.1:{port}");
    let vars = |worker: &'static str| {
        vec![
            ("PERCH_DATABASE_URL", database.url().to_owned()),
            ("PERCH_PUBLIC_URL", sender_url.clone()),
            ("PERCH_BIND", bind.clone()),
            ("PERCH_ALLOW_PRIVATE_ADDRESSES", "true".to_owned()),
            ("PERCH_DELIVERY_LEASE", "5".to_owned()),
            ("PERCH_DELIVERY_WORKER", worker.to_owned()),
        ]
    };
    create_user_with_binary(dir.path(), database.url(), &sender_url, "sender", PASSWORD);

    // First run, without the worker: the Follows wait in the queue.
    let first_vars = vars("false");
    let first: Vec<(&str, &str)> = first_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sender = ServedPerch::start(dir.path(), &first);
    let client = reqwest::Client::new();
    let app: Value = client
        .post(format!("{sender_url}/api/v1/apps"))
        .json(&serde_json::json!({"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"}))
        .send().await.expect("sent").json().await.expect("json");
    let token: Value = client
        .post(format!("{sender_url}/oauth/token"))
        .json(&serde_json::json!({
            "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": "sender", "password": PASSWORD, "scope": "read write follow",
        }))
        .send().await.expect("sent").json().await.expect("json");
    let token = token["access_token"].as_str().expect("token").to_owned();
    let receiver_domain = proxy_url.trim_start_matches("http://");
    for n in 0..FOLLOWED {
        let found: Value = client
            .get(format!("{sender_url}/api/v2/search"))
            .bearer_auth(&token)
            .query(&[
                ("q", format!("user{n}@{receiver_domain}")),
                ("resolve", "true".to_owned()),
            ])
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        let id = found["accounts"][0]["id"]
            .as_str()
            .expect("resolved")
            .to_owned();
        let followed = client
            .post(format!("{sender_url}/api/v1/accounts/{id}/follow"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent");
        assert_eq!(followed.status(), StatusCode::OK);
    }
    assert_eq!(sender.terminate().code(), Some(0));
    let sender_actor = format!("{sender_url}/users/sender");
    assert_eq!(follows_applied(&receiver, &sender_actor).await, 0);

    // Second run, with the worker: killed once the fan-out is under way.
    let second_vars = vars("true");
    let second: Vec<(&str, &str)> = second_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sender = ServedPerch::start(dir.path(), &second);
    gate.add_permits(BEFORE_KILL);
    until_applied(&receiver, &mut events, &sender_actor, 4).await;
    sender.kill();
    let at_kill = follows_applied(&receiver, &sender_actor).await;
    assert!(
        (at_kill as usize) < FOLLOWED,
        "the kill must land in the middle of the fan-out ({at_kill} of {FOLLOWED} done)"
    );

    // Third run: the dead process's leases run out, and the rest arrives
    // (jobs the killed process had sent are sent again; the receiver
    // acknowledges them without applying them twice).
    let sender = ServedPerch::start(dir.path(), &second);
    gate.add_permits(Semaphore::MAX_PERMITS / 2);
    until_applied(&receiver, &mut events, &sender_actor, FOLLOWED as i64).await;
    assert_eq!(sender.terminate().code(), Some(0));
    // Every follow exactly once: counts on both sides agree.
    assert_eq!(
        follows_applied(&receiver, &sender_actor).await,
        FOLLOWED as i64
    );
    for n in 0..FOLLOWED {
        let user = accounts::find_local_by_username(&receiver.db, &format!("user{n}"))
            .await
            .expect("query")
            .expect("user");
        assert_eq!(user.followers_count, 1, "user{n} followed once");
    }
    let sender_db = database.connect().await;
    let (totals, _) = perch_db::deliveries::stats(&sender_db, perch_core::time::now_millis())
        .await
        .expect("stats");
    assert_eq!(totals.failed, 0, "{totals:?}");
    assert_eq!(
        (totals.delivered + totals.pending) as usize,
        FOLLOWED,
        "one job per Follow, none lost: {totals:?}"
    );
}

#[tokio::test]
async fn queue_stats_and_retry_through_the_binary() {
    let app = spawn_app_with(|config| config.delivery_worker = false).await;
    let ann = crate::statuses::user(&app, "alice").await;
    let alice: i64 = ann.id.parse().expect("id");
    // A remote follower whose server is never reached: its job waits.
    let remote = perch_db::actors::RemoteActor {
        accepts_chat_messages: false,
        uri: "http://unreachable.invalid/users/x".to_owned(),
        username: "x".to_owned(),
        domain: "unreachable.invalid".to_owned(),
        url: None,
        actor_type: "Person".to_owned(),
        display_name: String::new(),
        note: String::new(),
        locked: false,
        bot: false,
        discoverable: false,
        avatar_url: None,
        header_url: None,
        inbox_url: "http://unreachable.invalid/inbox".to_owned(),
        shared_inbox_url: None,
        outbox_url: None,
        followers_url: None,
        following_url: None,
        featured_url: None,
        also_known_as: Vec::new(),
        key_id: "http://unreachable.invalid/users/x#main-key".to_owned(),
        public_key_pem: "unused".to_owned(),
        fields: Vec::new(),
        fetched_at: perch_core::time::now_millis(),
    };
    let follower = actors::upsert_remote(&app.db, app.ids.next_id(), &remote)
        .await
        .expect("remote");
    let mut tx = app.db.begin().await.expect("tx");
    let follow = perch_db::follows::NewFollow {
        id: app.ids.next_id().as_i64(),
        account_id: follower,
        target_account_id: alice,
        uri: None,
        created_at: perch_core::time::now_millis(),
    };
    perch_db::follows::insert_follow(&mut tx, &follow)
        .await
        .expect("follow");
    tx.commit().await.expect("commit");
    crate::statuses::post_status(&app, &ann.token, serde_json::json!({"status": "queued"})).await;

    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        let mut command = perch(dir.path());
        command
            .args(args)
            .env("PERCH_DATABASE_URL", &app.database_url)
            .env("PERCH_DATA_DIR", dir.path().join("data"));
        run_with_stdin(command, "")
    };
    let stats = run(&["queue", "stats"]);
    assert!(stats.status.success());
    let text = stdout(&stats);
    assert!(
        text.starts_with("pending 1  in flight 0  delivered 0  failed 0"),
        "{text}"
    );
    assert!(text.contains("unreachable.invalid"), "{text}");
    assert!(
        text.contains("received: waiting 0  being retried 0"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("web push: waiting 0"), "{text}");
    let retry = run(&["queue", "retry", "--host", "unreachable.invalid"]);
    assert!(retry.status.success());
    assert_eq!(
        stdout(&retry).trim(),
        "1 job(s) for unreachable.invalid are due now"
    );
}
