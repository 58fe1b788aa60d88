use perch_db::follows::{self, Kind, List, NewFollow, Page};
use perch_db::testing::TestDatabase;

use crate::accounts::create;

fn new_follow(id: i64, account: i64, target: i64) -> NewFollow {
    NewFollow {
        id,
        account_id: account,
        target_account_id: target,
        uri: Some(format!("https://perch.example/follows/{id}")),
        created_at: 1,
    }
}

#[tokio::test]
async fn follows_keep_counters_in_step_and_never_negative() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let a = create(&db, "ann", "ann@example.com").await;
    let b = create(&db, "ben", "ben@example.com").await;

    let mut tx = db.begin().await.expect("tx");
    assert!(
        follows::insert_follow(&mut tx, &new_follow(10, a.id, b.id))
            .await
            .expect("insert")
    );
    assert!(
        !follows::insert_follow(&mut tx, &new_follow(11, a.id, b.id))
            .await
            .expect("again")
    );
    tx.commit().await.expect("commit");
    let ann = perch_db::accounts::find_local_by_username(&db, "ann")
        .await
        .expect("q")
        .expect("row");
    let ben = perch_db::accounts::find_local_by_username(&db, "ben")
        .await
        .expect("q")
        .expect("row");
    assert_eq!((ann.following_count, ben.followers_count), (1, 1));
    assert!(
        follows::find_by_uri(&db, Kind::Follow, "https://perch.example/follows/10")
            .await
            .expect("q")
            .is_some()
    );

    let mut tx = db.begin().await.expect("tx");
    assert!(
        follows::delete_follow(&mut tx, a.id, b.id)
            .await
            .expect("delete")
            .is_some()
    );
    assert!(
        follows::delete_follow(&mut tx, a.id, b.id)
            .await
            .expect("again")
            .is_none()
    );
    tx.commit().await.expect("commit");
    let ann = perch_db::accounts::find_local_by_username(&db, "ann")
        .await
        .expect("q")
        .expect("row");
    assert_eq!(ann.following_count, 0);
}

#[tokio::test]
async fn requests_are_separate_and_lists_page_by_relation_id() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let target = create(&db, "star", "star@example.com").await;
    let mut fans = Vec::new();
    for (i, name) in ["f1", "f2", "f3", "f4"].iter().enumerate() {
        let fan = create(&db, name, &format!("{name}@example.com")).await;
        let mut tx = db.begin().await.expect("tx");
        follows::insert_follow(&mut tx, &new_follow(100 + i as i64, fan.id, target.id))
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
        fans.push(fan.id);
    }
    let requester = create(&db, "shy", "shy@example.com").await;
    let mut tx = db.begin().await.expect("tx");
    assert!(
        follows::insert_request(&mut tx, &new_follow(200, requester.id, target.id))
            .await
            .expect("request")
    );
    tx.commit().await.expect("commit");
    let star = perch_db::accounts::find_local_by_username(&db, "star")
        .await
        .expect("q")
        .expect("row");
    assert_eq!(star.followers_count, 4, "a request is not a follow");

    let page = |max_id, min_id, limit| Page {
        max_id,
        since_id: None,
        min_id,
        limit,
    };
    let newest = follows::page(&db, List::Followers, target.id, &page(None, None, 2))
        .await
        .expect("page");
    assert_eq!(
        newest.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [103, 102]
    );
    let older = follows::page(&db, List::Followers, target.id, &page(Some(102), None, 2))
        .await
        .expect("page");
    assert_eq!(
        older.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [101, 100]
    );
    assert_eq!(older[1].1.id, fans[0]);
    let newer = follows::page(&db, List::Followers, target.id, &page(None, Some(100), 2))
        .await
        .expect("page");
    assert_eq!(
        newer.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [102, 101],
        "newest first, just above min_id"
    );
    let following = follows::page(&db, List::Following, fans[0], &page(None, None, 10))
        .await
        .expect("page");
    assert_eq!(following.len(), 1);
    assert_eq!(following[0].1.id, target.id);
    let requests = follows::page(&db, List::Requests, target.id, &page(None, None, 10))
        .await
        .expect("page");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].1.id, requester.id);
}
