//! The per-account event log: numbers in order per account, reading after a
//! number, and purging by age.

use perch_db::testing::TestDatabase;
use perch_db::user_events;

use crate::accounts::create;

#[tokio::test]
async fn events_are_numbered_per_account_read_in_order_and_purged_by_age() {
    let database = TestDatabase::create().await;
    let db = &database.connect().await;
    let ann = create(db, "ann", "ann@example.com").await;
    let ben = create(db, "ben", "ben@example.com").await;
    let day = 24 * 3600 * 1000;
    let start = 1_800_000_000_000;

    let mut tx = db.begin().await.expect("tx");
    let live = user_events::append_to(&mut tx, &[ben.id, ann.id], "chat_message", "{}", start)
        .await
        .expect("append");
    tx.commit().await.expect("commit");
    assert_eq!(live.len(), 2);
    for n in 0..3 {
        let mut tx = db.begin().await.expect("tx");
        let seq = user_events::append(&mut tx, ann.id, "chat_receipt", "{}", start + (n + 1) * day)
            .await
            .expect("append");
        tx.commit().await.expect("commit");
        assert_eq!(seq, n + 2, "numbers follow each other per account");
    }
    let after_first: Vec<i64> = user_events::since(db, ann.id, 1, 100)
        .await
        .expect("since")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(after_first, [2, 3, 4]);
    assert_eq!(
        user_events::bounds(db, ann.id).await.expect("bounds"),
        (Some(1), 4)
    );
    assert_eq!(
        user_events::bounds(db, ben.id).await.expect("bounds"),
        (Some(1), 1)
    );

    // Seven days after the second event, the first two are gone.
    let purged = user_events::purge(db, start + 2 * day + user_events::RETENTION_MILLIS)
        .await
        .expect("purge");
    assert_eq!(purged, 3, "ann's first two and ben's one");
    assert_eq!(
        user_events::bounds(db, ann.id).await.expect("bounds"),
        (Some(3), 4)
    );
    assert_eq!(
        user_events::bounds(db, ben.id).await.expect("bounds"),
        (None, 1)
    );
}
