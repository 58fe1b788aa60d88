use perch_db::deliveries::{self, NewActivity, Target};
use perch_db::testing::TestDatabase;

use crate::accounts::create;

fn target(id: i64, inbox: &str) -> Target {
    Target {
        delivery_id: id,
        inbox_url: inbox.to_owned(),
        host: url_host(inbox),
    }
}

fn url_host(inbox: &str) -> String {
    inbox.split('/').nth(2).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn jobs_are_claimed_once_leased_and_reclaimed_after_the_lease() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "author", "author@example.com").await;
    let mut tx = db.begin().await.expect("tx");
    let activity = NewActivity {
        id: 1,
        uri: "https://perch.example/activities/1".to_owned(),
        actor_account_id: author.id,
        body: "{}".to_owned(),
        created_at: 1000,
    };
    let targets = [
        target(11, "https://a.example/inbox"),
        target(12, "https://b.example/inbox"),
    ];
    deliveries::enqueue(&mut tx, &activity, &targets)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 2);

    let first = deliveries::claim_due(&db, "worker-1", 1000, 61_000, 10)
        .await
        .expect("claim");
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].activity_uri, "https://perch.example/activities/1");
    // Leased: another worker gets nothing.
    assert!(
        deliveries::claim_due(&db, "worker-2", 2000, 62_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );

    deliveries::mark_delivered(&db, first[0].id, "worker-1", 202, 3000)
        .await
        .expect("delivered");
    deliveries::mark_failed(
        &db,
        first[1].id,
        "worker-1",
        Some(500),
        "boom",
        Some(10_000),
        3000,
    )
    .await
    .expect("failed");
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 1);
    assert!(
        deliveries::claim_due(&db, "worker-2", 5000, 65_000, 10)
            .await
            .expect("claim")
            .is_empty(),
        "not due yet"
    );
    let retry = deliveries::claim_due(&db, "worker-2", 10_000, 70_000, 10)
        .await
        .expect("claim");
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].attempts, 1);

    // worker-2 dies holding the job; after the lease, worker-3 takes it over.
    assert!(
        deliveries::claim_due(&db, "worker-3", 69_999, 130_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let taken = deliveries::claim_due(&db, "worker-3", 70_001, 130_001, 10)
        .await
        .expect("claim");
    assert_eq!(taken.len(), 1);
    // The dead worker's late report changes nothing.
    deliveries::mark_delivered(&db, taken[0].id, "worker-2", 202, 70_002)
        .await
        .expect("ignored");
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 1);
    deliveries::mark_failed(
        &db,
        taken[0].id,
        "worker-3",
        Some(410),
        "gone",
        None,
        70_003,
    )
    .await
    .expect("given up");
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 0);
}

#[tokio::test]
async fn one_inbox_gets_its_activities_in_order() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "orderly", "orderly@example.com").await;
    for (id, delivery) in [(1, 11), (2, 12)] {
        let mut tx = db.begin().await.expect("tx");
        let activity = NewActivity {
            id,
            uri: format!("https://perch.example/activities/{id}"),
            actor_account_id: author.id,
            body: "{}".to_owned(),
            created_at: 1000,
        };
        deliveries::enqueue(
            &mut tx,
            &activity,
            &[target(delivery, "https://a.example/inbox")],
        )
        .await
        .expect("enqueue");
        tx.commit().await.expect("commit");
    }
    let first = deliveries::claim_due(&db, "w", 1000, 2000, 10)
        .await
        .expect("claim");
    assert_eq!(first.len(), 1, "the Undo waits for its Follow");
    assert_eq!(first[0].activity_uri, "https://perch.example/activities/1");
    deliveries::mark_delivered(&db, first[0].id, "w", 202, 1001)
        .await
        .expect("delivered");
    let second = deliveries::claim_due(&db, "w", 1002, 2002, 10)
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].activity_uri, "https://perch.example/activities/2");
}

#[tokio::test]
async fn an_open_circuit_holds_a_servers_jobs_until_it_closes() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "author", "author@example.com").await;
    let mut tx = db.begin().await.expect("tx");
    let activity = NewActivity {
        id: 1,
        uri: "https://perch.example/activities/1".to_owned(),
        actor_account_id: author.id,
        body: "{}".to_owned(),
        created_at: 1000,
    };
    let targets = [
        target(11, "https://down.example/inbox"),
        target(12, "https://up.example/inbox"),
    ];
    deliveries::enqueue(&mut tx, &activity, &targets)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");

    for n in 1..=5 {
        let state = deliveries::host_failed(&db, "down.example", 1000 + n)
            .await
            .expect("failed");
        assert_eq!(state.consecutive_failures, n as i32);
        assert_eq!(
            state.failing_since,
            Some(1001),
            "failing since the first failure"
        );
    }
    deliveries::open_circuit(&db, "down.example", 60_000, None)
        .await
        .expect("open");
    let claimed = deliveries::claim_due(&db, "w", 2000, 3000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "only the other server's job");
    assert_eq!(claimed[0].host, "up.example");
    deliveries::mark_delivered(&db, claimed[0].id, "w", 202, 2500)
        .await
        .expect("delivered");
    let later = deliveries::claim_due(&db, "w", 60_001, 70_000, 10)
        .await
        .expect("claim");
    assert_eq!(later.len(), 1, "the circuit closed");
    assert_eq!(later[0].host, "down.example");

    // An answer forgets the failures.
    deliveries::host_succeeded(&db, "down.example", 61_000)
        .await
        .expect("ok");
    let state = deliveries::host_failed(&db, "down.example", 62_000)
        .await
        .expect("failed");
    assert_eq!(
        (state.consecutive_failures, state.failing_since),
        (1, Some(62_000))
    );
    // A server heard from is forgiven too.
    deliveries::heard_from(&db, author.id, "down.example")
        .await
        .expect("heard");
    let state = deliveries::host_failed(&db, "down.example", 63_000)
        .await
        .expect("failed");
    assert_eq!(state.consecutive_failures, 1, "the count started again");
    // Gone inboxes are remembered.
    deliveries::mark_inbox_gone(&db, "https://up.example/inbox", 63_000)
        .await
        .expect("gone");
    let gone = deliveries::gone_among(
        &db,
        &[
            "https://up.example/inbox".to_owned(),
            "https://down.example/inbox".to_owned(),
        ],
    )
    .await
    .expect("gone");
    assert_eq!(gone, ["https://up.example/inbox"]);
}

async fn enqueue_one(db: &perch_db::Db, author: i64, id: i64, targets: &[Target]) {
    let mut tx = db.begin().await.expect("tx");
    let activity = NewActivity {
        id,
        uri: format!("https://perch.example/activities/{id}"),
        actor_account_id: author,
        body: "{}".to_owned(),
        created_at: 1000,
    };
    deliveries::enqueue(&mut tx, &activity, targets)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_backlog_to_one_inbox_waits_parked_and_each_ending_lets_the_next_go() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "backlog", "backlog@example.com").await;
    for id in 1..=4 {
        enqueue_one(
            &db,
            author.id,
            id,
            &[target(10 + id, "https://slow.example/inbox")],
        )
        .await;
    }
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 4);
    assert_eq!(
        deliveries::unpark_orphans(&db).await.expect("sweep"),
        0,
        "every parked job has a pending predecessor"
    );

    let first = deliveries::claim_due(&db, "w", 1000, 2000, 10)
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].activity_uri, "https://perch.example/activities/1");
    // Given up: the next one goes.
    deliveries::mark_failed(&db, first[0].id, "w", Some(500), "boom", None, 1001)
        .await
        .expect("given up");
    let second = deliveries::claim_due(&db, "w", 1002, 2002, 10)
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].activity_uri, "https://perch.example/activities/2");
    // A retry keeps its place: the next one stays parked.
    deliveries::mark_failed(&db, second[0].id, "w", Some(503), "busy", Some(1500), 1003)
        .await
        .expect("retry");
    assert!(
        deliveries::claim_due(&db, "w", 1004, 2004, 10)
            .await
            .expect("claim")
            .is_empty(),
        "the retry is not due and the rest wait behind it"
    );
    let again = deliveries::claim_due(&db, "w", 1500, 2500, 10)
        .await
        .expect("claim");
    assert_eq!(again[0].activity_uri, "https://perch.example/activities/2");
    // Delivered in a batch: the next one goes.
    deliveries::mark_all_delivered(
        &db,
        "w",
        &[(again[0].id, 202)],
        &["slow.example".to_owned()],
        1501,
    )
    .await
    .expect("delivered");
    let third = deliveries::claim_due(&db, "w", 1502, 2502, 10)
        .await
        .expect("claim");
    assert_eq!(third[0].activity_uri, "https://perch.example/activities/3");
    deliveries::mark_delivered(&db, third[0].id, "w", 202, 1503)
        .await
        .expect("delivered");
    let fourth = deliveries::claim_due(&db, "w", 1504, 2504, 10)
        .await
        .expect("claim");
    assert_eq!(fourth[0].activity_uri, "https://perch.example/activities/4");
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 1);
}

#[tokio::test]
async fn a_claim_skips_busy_servers_and_takes_a_few_jobs_per_server() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "spread", "spread@example.com").await;
    let targets = [
        target(11, "https://many.example/users/a/inbox"),
        target(12, "https://many.example/users/b/inbox"),
        target(13, "https://many.example/users/c/inbox"),
        target(14, "https://other.example/inbox"),
        target(15, "https://busy.example/inbox"),
    ];
    enqueue_one(&db, author.id, 1, &targets).await;
    let claimed = deliveries::claim(&db, "w", 1000, 2000, 10, &["busy.example".to_owned()], 2)
        .await
        .expect("claim");
    let mut hosts: Vec<&str> = claimed.iter().map(|j| j.host.as_str()).collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["many.example", "many.example", "other.example"]);
    let rest = deliveries::claim(&db, "w", 1000, 2000, 10, &[], 2)
        .await
        .expect("claim");
    let mut hosts: Vec<&str> = rest.iter().map(|j| j.host.as_str()).collect();
    hosts.sort_unstable();
    assert_eq!(hosts, ["busy.example", "many.example"]);
    // Given back unattempted: claimable at once.
    let ids: Vec<i64> = rest.iter().map(|j| j.id).collect();
    deliveries::release(&db, "w", &ids).await.expect("release");
    let again = deliveries::claim(&db, "w2", 1001, 2001, 10, &[], 2)
        .await
        .expect("claim");
    assert_eq!(again.len(), 2);
    assert_eq!(again[0].attempts, 0, "nothing was attempted");
}
