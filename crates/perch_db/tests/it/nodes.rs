use perch_core::time::now_millis;
use perch_db::nodes::{self, LEASE_MILLIS};
use perch_db::testing::TestDatabase;

#[tokio::test]
async fn live_leases_are_exclusive_and_released_numbers_are_reused() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let now = now_millis();
    let a = nodes::acquire(&db, "process-a", now)
        .await
        .expect("lease a");
    let b = nodes::acquire(&db, "process-b", now)
        .await
        .expect("lease b");
    let c = nodes::acquire(&db, "process-c", now)
        .await
        .expect("lease c");
    assert_eq!((a, b, c), (0, 1, 2));

    nodes::release(&db, b, "process-b").await.expect("release");
    assert_eq!(
        nodes::acquire(&db, "process-d", now)
            .await
            .expect("lease d"),
        1
    );
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_its_old_owner_learns_it() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let then = now_millis();
    let node = nodes::acquire(&db, "crashed", then).await.expect("lease");
    assert!(
        nodes::renew(&db, node, "crashed", then + 1)
            .await
            .expect("renew")
    );

    let later = then + 1 + LEASE_MILLIS + 1;
    let taken = nodes::acquire(&db, "successor", later)
        .await
        .expect("lease");
    assert_eq!(taken, node, "the expired number is the lowest free one");
    assert!(
        !nodes::renew(&db, node, "crashed", later)
            .await
            .expect("renew")
    );
    // Releasing someone else's lease does nothing.
    nodes::release(&db, node, "crashed").await.expect("release");
    assert!(
        nodes::renew(&db, node, "successor", later)
            .await
            .expect("renew")
    );
}

#[tokio::test]
async fn concurrent_acquirers_get_distinct_numbers() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let now = now_millis();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            nodes::acquire(&db, &format!("process-{i}"), now)
                .await
                .expect("lease")
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.expect("task"));
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (0..8).collect::<Vec<u16>>());
}
