//! An activity the inbox answered with 202 survives a SIGKILL before it is
//! applied, and is applied exactly once after the restart.
//!
//! The receiver is the real binary with its own database, first with its
//! inbound worker off (so the activity is queued and left there when the
//! process is killed), then with it on. The sender is a server in this
//! process whose user's key signs a Follow. Applying a Follow answers it
//! with an Accept: one queued Accept is the witness that it was applied
//! once, not twice.

use std::time::Duration;

use perch_apub::signatures::SigningKey;
use perch_core::time::now_millis;
use perch_db::follows::{self, Kind};
use perch_db::testing::TestDatabase;
use perch_db::{accounts, actors, deliveries, inbound};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ServedPerch, create_user_with_binary, spawn_app};

const PASSWORD: &str = "a long enough password";

#[tokio::test]
async fn an_activity_answered_202_is_applied_exactly_once_after_a_sigkill() {
    let sender = spawn_app().await;
    let sender_id = sender.create_user("sender", PASSWORD).await;
    let key = actors::key_of_account(&sender.db, sender_id)
        .await
        .expect("query")
        .expect("key");
    let key =
        SigningKey::from_pem(key.key_id, &key.private_key_pem.expect("private key")).expect("key");
    let sender_actor = format!("{}/users/sender", sender.base_url);

    // The receiver's address and database stay the same across restarts.
    let database = TestDatabase::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let receiver_url = format!("http://127.0.0.1:{port}");
    create_user_with_binary(
        dir.path(),
        database.url(),
        &receiver_url,
        "target",
        PASSWORD,
    );
    let vars = |worker: &str| {
        vec![
            ("PERCH_DATABASE_URL", database.url().to_owned()),
            ("PERCH_PUBLIC_URL", receiver_url.clone()),
            ("PERCH_BIND", format!("127.0.0.1:{port}")),
            ("PERCH_ALLOW_PRIVATE_ADDRESSES", "true".to_owned()),
            ("PERCH_INBOX_WORKER", worker.to_owned()),
            ("PERCH_LOG", "perch_apub::inbox=debug,info".to_owned()),
        ]
    };
    let target_actor = format!("{receiver_url}/users/target");
    let inbox = url::Url::parse(&format!("{target_actor}/inbox")).expect("url");
    let follow = serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/follow-1", sender.base_url),
        "type": "Follow",
        "actor": sender_actor,
        "object": target_actor,
    }))
    .expect("json");
    let client = reqwest::Client::new();
    let deliver = || perch_server::testing::deliver(&client, &key, &inbox, &follow);

    // First run: the Follow is answered, and delivered twice (a sender's
    // retry), but nothing applies it; then the process dies.
    let first_vars = vars("false");
    let first: Vec<(&str, &str)> = first_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let receiver = ServedPerch::start(dir.path(), &first);
    assert_eq!(deliver().await, StatusCode::ACCEPTED);
    assert_eq!(deliver().await, StatusCode::ACCEPTED);
    receiver.kill();
    let db = database.connect().await;
    assert_eq!(
        inbound::pending_count(&db).await.expect("count"),
        1,
        "queued once, however often delivered"
    );
    let target = accounts::find_local_by_username(&db, "target")
        .await
        .expect("query")
        .expect("target");
    let follower = actors::find_by_uri(&db, &sender_actor)
        .await
        .expect("query")
        .expect("the sender's actor was fetched to verify the signature");
    assert!(
        follows::find(&db, Kind::Follow, follower.id, target.id)
            .await
            .expect("query")
            .is_none(),
        "not applied before the kill"
    );

    // Second run: the queued Follow is applied once.
    let second_vars = vars("true");
    let second: Vec<(&str, &str)> = second_vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut receiver = ServedPerch::start(dir.path(), &second);
    receiver.wait_for_line("activity applied", Duration::from_secs(60));
    assert!(
        follows::find(&db, Kind::Follow, follower.id, target.id)
            .await
            .expect("query")
            .is_some(),
        "applied after the restart"
    );
    // Delivered once more after it was applied: acknowledged, not queued
    // (the applied row itself may still wait for the worker's next claim,
    // which removes settled rows in a batch).
    assert_eq!(deliver().await, StatusCode::ACCEPTED);
    assert!(inbound::pending_count(&db).await.expect("count") <= 1);
    // A clean stop removes what was settled: nothing is left queued.
    assert_eq!(receiver.terminate().code(), Some(0));
    assert_eq!(
        inbound::pending_count(&db).await.expect("count"),
        0,
        "the applied row was removed and the redelivery never queued"
    );

    let target = accounts::find_local_by_username(&db, "target")
        .await
        .expect("query")
        .expect("target");
    assert_eq!(target.followers_count, 1);
    let (totals, _) = deliveries::stats(&db, now_millis()).await.expect("stats");
    assert_eq!(
        totals.pending + totals.delivered + totals.failed,
        1,
        "one Accept: the Follow was applied exactly once ({totals:?})"
    );
}
