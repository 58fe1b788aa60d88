//! The delivery queue against servers that misbehave: one that was down
//! receives everything once it is back; an inbox answering 410 gets
//! nothing more; an inbox refusing one activity with 500 gets everything
//! else meanwhile, and that object's later activities only after it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use perch_core::time::now_millis;
use perch_db::actors::{self, RemoteActor};
use perch_db::deliveries;
use perch_db::follows::{self, NewFollow};
use perch_federation_tests::{Instance, PASSWORD, drain};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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
    let mut uris: Vec<&str> = home
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    // Three notes, three objects: the queue keeps no order between them.
    uris.sort_unstable();
    posted.sort_unstable();
    assert_eq!(uris, posted, "all three");
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

/// Make the actor at `base` (whose inbox is `{base}/inbox`) a follower of
/// `followed` on `a`.
async fn remote_follower(a: &Instance, followed: i64, base: &str, name: &str) {
    let host = base.trim_start_matches("http://").to_owned();
    let remote = RemoteActor {
        accepts_chat_messages: false,
        uri: format!("{base}/users/{name}"),
        username: name.to_owned(),
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
        featured_url: None,
        also_known_as: Vec::new(),
        key_id: format!("{base}/users/{name}#main-key"),
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
        target_account_id: followed,
        uri: Some(format!("{base}/follows/1")),
        created_at: now_millis(),
    };
    follows::insert_follow(&mut tx, &follow)
        .await
        .expect("follow");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_receiver_answering_410_gets_no_more_deliveries() {
    let a = Instance::start().await;
    let alice_id = a.create_user("alice", PASSWORD).await;
    let alice = a.token("alice").await;
    let (base, hits) = gone_inbox().await;
    remote_follower(&a, alice_id, &base, "gone").await;

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

/// An inbox that answers 500 to every activity about one object while
/// `refusing` is set, and 202 to the rest; it lists what it was sent, as
/// (type, object id, answered status).
struct PickyInbox {
    base: String,
    refused: Arc<Mutex<String>>,
    refusing: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(String, String, u16)>>>,
}

impl PickyInbox {
    async fn start() -> PickyInbox {
        let refused = Arc::new(Mutex::new(String::new()));
        let refusing = Arc::new(AtomicBool::new(true));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (r, on, log) = (refused.clone(), refusing.clone(), seen.clone());
        let app = axum::Router::new().route(
            "/inbox",
            axum::routing::post(move |body: axum::body::Bytes| {
                let (r, on, log) = (r.clone(), on.clone(), log.clone());
                async move {
                    let activity: Value = serde_json::from_slice(&body).unwrap_or_default();
                    let object = match &activity["object"] {
                        Value::String(id) => id.clone(),
                        object => object["id"].as_str().unwrap_or_default().to_owned(),
                    };
                    let kind = activity["type"].as_str().unwrap_or_default().to_owned();
                    let status = if on.load(Ordering::SeqCst)
                        && object == *r.lock().expect("the refused id")
                    {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::ACCEPTED
                    };
                    log.lock()
                        .expect("the log")
                        .push((kind, object, status.as_u16()));
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        PickyInbox {
            base: format!("http://{address}"),
            refused,
            refusing,
            seen,
        }
    }

    fn seen(&self) -> Vec<(String, String, u16)> {
        self.seen.lock().expect("the log").clone()
    }
}

fn seen(kind: &str, object: &str, status: u16) -> (String, String, u16) {
    (kind.to_owned(), object.to_owned(), status)
}

#[tokio::test]
async fn an_activity_refused_with_500_holds_back_its_object_only() {
    let a = Instance::start().await;
    let alice_id = a.create_user("alice", PASSWORD).await;
    let alice = a.token("alice").await;
    let inbox = PickyInbox::start().await;
    remote_follower(&a, alice_id, &inbox.base, "picky").await;

    let refused = a
        .post_status(&alice, json!({"status": "the inbox refuses this one"}))
        .await;
    let refused_uri = refused["uri"].as_str().unwrap().to_owned();
    *inbox.refused.lock().unwrap() = refused_uri.clone();
    drain(&[&a]).await;
    assert_eq!(inbox.seen(), [seen("Create", &refused_uri, 500)]);

    // While its Create waits for a retry, the same note is deleted and
    // another note is posted.
    let path = format!("/api/v1/statuses/{}", refused["id"].as_str().unwrap());
    let (status, _) = a.send(Method::DELETE, &path, &alice, None).await;
    assert_eq!(status, StatusCode::OK);
    let other = a
        .post_status(&alice, json!({"status": "another note"}))
        .await;
    let other_uri = other["uri"].as_str().unwrap().to_owned();
    drain(&[&a]).await;
    assert_eq!(
        inbox.seen(),
        [
            seen("Create", &refused_uri, 500),
            seen("Create", &other_uri, 202)
        ],
        "the other note went out; the Delete waits for its Create"
    );
    let (totals, _) = deliveries::stats(&a.db, now_millis()).await.expect("stats");
    assert_eq!(
        (totals.pending, totals.delivered),
        (2, 1),
        "the Create to retry and its Delete: {totals:?}"
    );

    // The inbox takes the note now: its Create, then its Delete.
    inbox.refusing.store(false, Ordering::SeqCst);
    let host = inbox.base.trim_start_matches("http://");
    deliveries::retry_now(&a.db, Some(host), now_millis())
        .await
        .expect("retry");
    drain(&[&a]).await;
    assert_eq!(
        inbox.seen(),
        [
            seen("Create", &refused_uri, 500),
            seen("Create", &other_uri, 202),
            seen("Create", &refused_uri, 202),
            seen("Delete", &refused_uri, 202),
        ]
    );
    let (totals, _) = deliveries::stats(&a.db, now_millis()).await.expect("stats");
    assert_eq!((totals.pending, totals.delivered), (0, 3), "{totals:?}");
}
