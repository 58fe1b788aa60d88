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
        order_key: "https://perch.example/notes/1".to_owned(),
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
            // A Follow and its Undo: one relation.
            order_key: "follow ann ben".to_owned(),
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
        order_key: "https://perch.example/notes/1".to_owned(),
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

/// Enqueue activity `id` about the object `key`.
async fn enqueue_about(db: &perch_db::Db, author: i64, id: i64, key: &str, targets: &[Target]) {
    let mut tx = db.begin().await.expect("tx");
    let activity = NewActivity {
        id,
        uri: format!("https://perch.example/activities/{id}"),
        actor_account_id: author,
        body: "{}".to_owned(),
        created_at: 1000,
        order_key: key.to_owned(),
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
        enqueue_about(
            &db,
            author.id,
            id,
            "https://perch.example/notes/1",
            &[target(10 + id, "https://slow.example/inbox")],
        )
        .await;
    }
    assert_eq!(deliveries::pending_count(&db).await.expect("count"), 4);
    assert_eq!(
        deliveries::unpark_orphans(&db, 1000).await.expect("sweep"),
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
    enqueue_about(&db, author.id, 1, "https://perch.example/notes/1", &targets).await;
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

/// A job about one object that keeps failing holds back the later jobs
/// about that object, and the rest of its inbox for one attempt only.
#[tokio::test]
async fn a_retrying_job_holds_back_its_objects_next_jobs_only() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "stuck", "stuck@example.com").await;
    let inbox = "https://picky.example/inbox";
    let (refused, other) = (
        "https://perch.example/notes/refused",
        "https://perch.example/notes/other",
    );
    let uris = |jobs: &[deliveries::Job]| -> Vec<String> {
        jobs.iter().map(|j| j.activity_uri.clone()).collect()
    };
    // Create of the refused note, then its Delete, then another note.
    enqueue_about(&db, author.id, 1, refused, &[target(11, inbox)]).await;
    enqueue_about(&db, author.id, 2, refused, &[target(12, inbox)]).await;
    enqueue_about(&db, author.id, 3, other, &[target(13, inbox)]).await;
    let first = deliveries::claim_due(&db, "w", 1000, 2000, 10)
        .await
        .expect("claim");
    assert_eq!(uris(&first), ["https://perch.example/activities/1"]);
    // Its attempt failed, to be retried later: the other note goes now, the
    // Delete stays behind its Create.
    deliveries::mark_failed(&db, first[0].id, "w", Some(500), "boom", Some(5000), 1001)
        .await
        .expect("retry");
    let next = deliveries::claim_due(&db, "w", 1002, 2002, 10)
        .await
        .expect("claim");
    assert_eq!(uris(&next), ["https://perch.example/activities/3"]);
    deliveries::mark_delivered(&db, next[0].id, "w", 202, 1003)
        .await
        .expect("delivered");
    // A later activity about another object is not parked at all.
    enqueue_about(&db, author.id, 4, other, &[target(14, inbox)]).await;
    let next = deliveries::claim_due(&db, "w", 1004, 2004, 10)
        .await
        .expect("claim");
    assert_eq!(uris(&next), ["https://perch.example/activities/4"]);
    deliveries::mark_delivered(&db, next[0].id, "w", 202, 1005)
        .await
        .expect("delivered");
    assert_eq!(
        deliveries::unpark_orphans(&db, 1006).await.expect("sweep"),
        0,
        "the Delete is parked behind its Create"
    );
    assert!(
        deliveries::claim_due(&db, "w", 1006, 2006, 10)
            .await
            .expect("claim")
            .is_empty(),
        "the Create is not due and its Delete waits behind it"
    );
    let again = deliveries::claim_due(&db, "w", 5000, 6000, 10)
        .await
        .expect("claim");
    assert_eq!(uris(&again), ["https://perch.example/activities/1"]);
    deliveries::mark_delivered(&db, again[0].id, "w", 202, 5001)
        .await
        .expect("delivered");
    let last = deliveries::claim_due(&db, "w", 5002, 6002, 10)
        .await
        .expect("claim");
    assert_eq!(
        uris(&last),
        ["https://perch.example/activities/2"],
        "then the Delete"
    );
}

/// What `mark_failed` does to a job to be retried, without unparking.
async fn schedule_retry_alone(db: &perch_db::Db, id: i64, retry_at: i64) {
    let sql = "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $1, \
               lease_owner = NULL, lease_expires_at = NULL WHERE id = $2";
    match db {
        perch_db::Db::Sqlite(pool) => sqlx::query(sql)
            .bind(retry_at)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        perch_db::Db::Postgres(pool) => sqlx::query(sql)
            .bind(retry_at)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
    .expect("retry scheduled");
}

/// A job parked behind an attempt that ended without unparking it (on
/// PostgreSQL, enqueued concurrently) is found by the sweep, one per inbox.
#[tokio::test]
async fn the_sweep_unparks_the_first_job_that_may_go_of_an_idle_inbox() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "swept", "swept@example.com").await;
    let inbox = "https://idle.example/inbox";
    enqueue_about(&db, author.id, 1, "note-a", &[target(11, inbox)]).await;
    enqueue_about(&db, author.id, 2, "note-a", &[target(12, inbox)]).await;
    enqueue_about(&db, author.id, 3, "note-b", &[target(13, inbox)]).await;
    enqueue_about(&db, author.id, 4, "note-c", &[target(14, inbox)]).await;
    assert_eq!(
        deliveries::unpark_orphans(&db, 1000).await.expect("sweep"),
        0,
        "the inbox's first job is due"
    );
    // Its retry is scheduled without the end-of-attempt unparking, as if
    // the parked jobs had not been visible yet.
    let first = deliveries::claim_due(&db, "w", 1000, 2000, 10)
        .await
        .expect("claim");
    assert_eq!(first.len(), 1);
    schedule_retry_alone(&db, first[0].id, 9000).await;
    assert_eq!(
        deliveries::unpark_orphans(&db, 1001).await.expect("sweep"),
        1,
        "one job, not about note-a"
    );
    let next = deliveries::claim_due(&db, "w", 1002, 2002, 10)
        .await
        .expect("claim");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].activity_uri, "https://perch.example/activities/3");
    assert_eq!(
        deliveries::unpark_orphans(&db, 1003).await.expect("sweep"),
        0,
        "a job of the inbox is being attempted"
    );
}

#[tokio::test]
async fn a_queue_grown_past_its_statistics_has_them_refreshed_once() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "author", "author@example.com").await;
    let small: Vec<Target> = (0..10)
        .map(|n| target(100 + n, &format!("https://s{n}.example/inbox")))
        .collect();
    enqueue_about(&db, author.id, 1, "https://perch.example/notes/1", &small).await;
    assert!(
        !deliveries::refresh_statistics_if_stale(&db)
            .await
            .expect("check"),
        "a small queue is planned well whatever the statistics"
    );
    let large: Vec<Target> = (0..3_000)
        .map(|n| target(10_000 + n, &format!("https://h{n}.example/inbox")))
        .collect();
    enqueue_about(&db, author.id, 2, "https://perch.example/notes/2", &large).await;
    let postgres = matches!(db, perch_db::Db::Postgres(_));
    assert_eq!(
        deliveries::refresh_statistics_if_stale(&db)
            .await
            .expect("check"),
        postgres,
        "3,010 pending jobs the planner has never counted: refreshed on PostgreSQL"
    );
    assert!(
        !deliveries::refresh_statistics_if_stale(&db)
            .await
            .expect("check"),
        "once refreshed, the statistics hold until the queue grows again"
    );
}
