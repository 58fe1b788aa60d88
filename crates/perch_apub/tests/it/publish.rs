use perch_apub::publish;
use perch_core::id::IdGenerator;
use perch_core::outbound::{ActorRef, Outbound, Relation};
use perch_core::time::now_millis;
use perch_db::actors::{self, RemoteActor};
use perch_db::deliveries;
use perch_db::testing::TestDatabase;
use perch_domain::urls::ActorUrlLayout;
use serde_json::Value;

fn remote(username: &str) -> RemoteActor {
    let uri = format!("https://remote.example/users/{username}");
    RemoteActor {
        accepts_chat_messages: false,
        username: username.to_owned(),
        domain: "remote.example".to_owned(),
        url: None,
        actor_type: "Person".to_owned(),
        display_name: String::new(),
        note: String::new(),
        locked: false,
        bot: false,
        discoverable: true,
        avatar_url: None,
        header_url: None,
        inbox_url: format!("{uri}/inbox"),
        shared_inbox_url: Some("https://remote.example/inbox".to_owned()),
        outbox_url: None,
        followers_url: None,
        following_url: None,
        featured_url: None,
        also_known_as: Vec::new(),
        key_id: format!("{uri}#main-key"),
        public_key_pem: "unused".to_owned(),
        fields: Vec::new(),
        fetched_at: now_millis(),
        uri,
    }
}

/// A Follow and its Undo become one job each for the remote personal inbox,
/// committed with the caller's transaction, and nothing when it rolls back.
#[tokio::test]
async fn follow_events_become_delivery_jobs_in_the_callers_transaction() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let ids = IdGenerator::new(1).expect("node");
    let layout = ActorUrlLayout::new("https://perch.example".parse().expect("url"));
    let local_id = actors::upsert_remote(
        &db,
        ids.next_id(),
        &RemoteActor {
            domain: "other.example".to_owned(),
            ..remote("stand_in")
        },
    )
    .await
    .expect("stand-in account");
    let target_id = actors::upsert_remote(&db, ids.next_id(), &remote("ben"))
        .await
        .expect("remote");
    let follower = ActorRef {
        account_id: local_id,
        uri: "https://perch.example/users/ann".to_owned(),
        domain: None,
        inbox_url: None,
        shared_inbox_url: None,
        suspended: false,
    };
    let target = ActorRef {
        account_id: target_id,
        uri: "https://remote.example/users/ben".to_owned(),
        domain: Some("remote.example".to_owned()),
        inbox_url: Some("https://remote.example/users/ben/inbox".to_owned()),
        shared_inbox_url: None,
        suspended: false,
    };
    let follow_uri = layout.activity_uri(ids.next_id().as_i64());
    let relation = Relation {
        follow_uri: follow_uri.clone(),
        follower,
        target,
    };
    let event = Outbound::Follow(relation.clone());

    // Rolled back: nothing stays.
    let mut tx = db.begin().await.expect("tx");
    publish::enqueue(&mut tx, &ids, &layout, &event)
        .await
        .expect("enqueue");
    drop(tx);
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 0);

    let mut tx = db.begin().await.expect("tx");
    publish::enqueue(&mut tx, &ids, &layout, &event)
        .await
        .expect("enqueue");
    let undo = Outbound::UndoFollow(relation);
    publish::enqueue(&mut tx, &ids, &layout, &undo)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 2);

    let now = now_millis();
    let jobs = deliveries::claim_due(&db, "test", now, now + 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(jobs.len(), 1, "the Undo waits for the Follow");
    assert_eq!(jobs[0].inbox_url, "https://remote.example/users/ben/inbox");
    assert_eq!(jobs[0].host, "remote.example");
    let body: Value = serde_json::from_str(&jobs[0].body).expect("json");
    assert_eq!(body["type"], "Follow");
    assert_eq!(body["id"], follow_uri);
    assert_eq!(body["actor"], "https://perch.example/users/ann");
    assert_eq!(body["object"], "https://remote.example/users/ben");
    assert_eq!(jobs[0].activity_uri, follow_uri);
}
