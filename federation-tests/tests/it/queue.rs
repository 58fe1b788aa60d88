//! The delivery queue against servers that misbehave: one that was down
//! receives everything, in order, once it is back; an inbox answering 410
//! gets nothing more.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use perch_core::time::now_millis;
use perch_db::actors::{self, RemoteActor};
use perch_db::deliveries;
use perch_db::follows::{self, NewFollow};
use perch_federation_tests::{Instance, PASSWORD, drain};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_follower_instance_that_was_down_receives_everything_once_back() {
    let (a, mut b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let bob = b.token("bob").await;
    let alice_on_b = b.resolve(&bob, &format!("alice@{}", a.domain)).await;
    b.post(&format!("/api/v1/accounts/{alice_on_b}/follow"), &bob)
        .await;
    drain(&[&a, &b]).await;

    b.stop().await;
    let mut posted = Vec::new();
    for n in 0..3 {
        let status = a
            .post_status(&alice, json!({"status": format!("while B was down {n}")}))
            .await;
        posted.push(status["uri"].as_str().unwrap().to_owned());
    }
    drain(&[&a]).await;
    let (totals, hosts) = deliveries::stats(&a.db, now_millis()).await.expect("stats");
    assert_eq!(totals.pending, 3, "kept for later: {totals:?}");
    assert_eq!(hosts[0].host, b.domain);
    assert!(hosts[0].consecutive_failures.unwrap_or(0) >= 1);

    b.start_again().await;
    let touched = deliveries::retry_now(&a.db, Some(&b.domain), now_millis())
        .await
        .expect("retry");
    assert_eq!(touched, 3);
    drain(&[&a, &b]).await;
    let (status, home) = b.get("/api/v1/timelines/home", &bob).await;
    assert_eq!(status, StatusCode::OK);
    let uris: Vec<&str> = home
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    posted.reverse();
    assert_eq!(uris, posted, "all three, in order");
    let (totals, _) = deliveries::stats(&a.db, now_millis()).await.expect("stats");
    assert_eq!((totals.pending, totals.failed), (0, 0), "{totals:?}");
    let metrics = a
        .client
        .get(a.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    let text = metrics.text().await.expect("text");
    assert!(text.contains("perch_deliveries"), "{text}");
    assert!(text.contains("perch_delivery_latency_seconds"), "{text}");
}

/// An inbox that answers 410 Gone to everything, counting requests.
async fn gone_inbox() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/inbox",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::GONE
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), hits)
}

#[tokio::test]
async fn a_receiver_answering_410_gets_no_more_deliveries() {
    let a = Instance::start().await;
    let alice_id = a.create_user("alice", PASSWORD).await;
    let alice = a.token("alice").await;
    let (base, hits) = gone_inbox().await;
    let host = base.trim_start_matches("http://").to_owned();
    let remote = RemoteActor {
        accepts_chat_messages: false,
        uri: format!("{base}/users/gone"),
        username: "gone".to_owned(),
        domain: host.clone(),
        url: None,
        actor_type: "Person".to_owned(),
        display_name: String::new(),
        note: String::new(),
        locked: false,
        bot: false,
        discoverable: false,
        avatar_url: None,
        header_url: None,
        inbox_url: format!("{base}/inbox"),
        shared_inbox_url: None,
        outbox_url: None,
        followers_url: None,
        following_url: None,
        key_id: format!("{base}/users/gone#main-key"),
        public_key_pem: "unused".to_owned(),
        fields: Vec::new(),
        fetched_at: now_millis(),
    };
    let follower = actors::upsert_remote(&a.db, a.apub.ids.next_id(), &remote)
        .await
        .expect("remote actor");
    let mut tx = a.db.begin().await.expect("tx");
    let follow = NewFollow {
        id: a.apub.ids.next_id().as_i64(),
        account_id: follower,
        target_account_id: alice_id,
        uri: Some(format!("{base}/follows/1")),
        created_at: now_millis(),
    };
    follows::insert_follow(&mut tx, &follow)
        .await
        .expect("follow");
    tx.commit().await.expect("commit");

    for n in 0..3 {
        a.post_status(&alice, json!({"status": format!("post {n}")}))
            .await;
        drain(&[&a]).await;
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "after the 410, nothing more was sent"
    );
    let (totals, _) = deliveries::stats(&a.db, now_millis()).await.expect("stats");
    assert_eq!(
        (totals.pending, totals.failed),
        (0, 3),
        "recorded, not dropped: {totals:?}"
    );
}
