//! Blocks and mutes in storage: mutes that end at their time, and who an
//! author is kept from, read from the author's side.

use perch_db::blocks::{self, NewMute};
use perch_db::testing::TestDatabase;

use crate::accounts::create;

fn mute(id: i64, account: i64, target: i64, expires_at: Option<i64>) -> NewMute {
    NewMute {
        id,
        account_id: account,
        target_account_id: target,
        hide_notifications: true,
        expires_at,
        created_at: 1,
    }
}

#[tokio::test]
async fn mutes_end_at_their_time_and_not_before() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let ann = create(&db, "ann", "ann@example.com").await;
    let ben = create(&db, "ben", "ben@example.com").await;
    let cat = create(&db, "cat", "cat@example.com").await;
    let mut tx = db.begin().await.expect("tx");
    assert!(
        blocks::upsert_mute(&mut tx, &mute(1, ann.id, ben.id, Some(1_000)))
            .await
            .expect("mute")
    );
    assert!(
        blocks::upsert_mute(&mut tx, &mute(2, ann.id, cat.id, None))
            .await
            .expect("mute")
    );
    // Muting again changes the mute, and is not new.
    assert!(
        !blocks::upsert_mute(&mut tx, &mute(3, ann.id, ben.id, Some(2_000)))
            .await
            .expect("again")
    );
    tx.commit().await.expect("commit");

    assert_eq!(
        blocks::purge_expired_mutes(&db, 1_999)
            .await
            .expect("purge"),
        0
    );
    assert!(blocks::kept_from(&db, ann.id, ben.id).await.expect("q"));
    assert_eq!(
        blocks::purge_expired_mutes(&db, 2_000)
            .await
            .expect("purge"),
        1
    );
    assert!(!blocks::kept_from(&db, ann.id, ben.id).await.expect("q"));
    assert!(
        blocks::kept_from(&db, ann.id, cat.id).await.expect("q"),
        "a mute without end stays"
    );
    let left = blocks::mute_expiries(&db, ann.id, &[ben.id, cat.id])
        .await
        .expect("q");
    assert_eq!(left, vec![(cat.id, None)]);
}

#[tokio::test]
async fn an_author_is_kept_from_its_blockers_the_blocked_and_its_muters() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "author", "author@example.com").await;
    let original = create(&db, "original", "original@example.com").await;
    let blocker = create(&db, "blocker", "blocker@example.com").await;
    let blocked = create(&db, "blocked", "blocked@example.com").await;
    let muter = create(&db, "muter", "muter@example.com").await;
    let bystander = create(&db, "bystander", "bystander@example.com").await;
    let mut tx = db.begin().await.expect("tx");
    blocks::insert_block(&mut tx, 1, blocker.id, author.id, None, 1)
        .await
        .expect("block");
    blocks::insert_block(&mut tx, 2, author.id, blocked.id, None, 1)
        .await
        .expect("block");
    blocks::upsert_mute(&mut tx, &mute(3, muter.id, original.id, None))
        .await
        .expect("mute");
    tx.commit().await.expect("commit");

    let kept = blocks::kept_from_authors(&db, author.id, None)
        .await
        .expect("q");
    assert!(kept.contains(&blocker.id) && kept.contains(&blocked.id));
    assert!(!kept.contains(&muter.id) && !kept.contains(&bystander.id));
    // A reblog of `original` is kept from its muter too.
    let kept = blocks::kept_from_authors(&db, author.id, Some(original.id))
        .await
        .expect("q");
    assert!(kept.contains(&muter.id) && !kept.contains(&bystander.id));
    for (viewer, expected) in [
        (blocker.id, true),
        (blocked.id, true),
        (bystander.id, false),
    ] {
        assert_eq!(
            blocks::kept_from(&db, viewer, author.id).await.expect("q"),
            expected
        );
    }
}
