//! Poll rows: votes counted with their options and voters, a repeated
//! choice writing nothing, a remote poll's totals replaced, and a poll
//! closed once however many passes see it due.

use perch_db::polls::{self, NewPoll, NewVote, RemoteTotals, Vote};
use perch_db::statuses::{self, NewStatus};
use perch_db::testing::TestDatabase;
use perch_db::{Db, Tx};

use crate::accounts::create;

async fn status_with_poll(db: &Db, account_id: i64, multiple: bool) -> i64 {
    let status = NewStatus {
        id: 100,
        account_id,
        uri: "https://perch.example/users/ann/statuses/100".to_owned(),
        url: None,
        content: "<p>tea or coffee?</p>".to_owned(),
        source_text: None,
        spoiler_text: String::new(),
        sensitive: false,
        visibility: 0,
        language: None,
        local: true,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        in_reply_to_uri: None,
        reblog_of_id: None,
        created_at: 1000,
    };
    let mut tx = db.begin().await.expect("tx");
    statuses::insert(&mut tx, &status, &[], &[])
        .await
        .expect("status");
    polls::insert(
        &mut tx,
        &NewPoll {
            id: 7,
            status_id: 100,
            multiple,
            hide_totals: false,
            expires_at: Some(5000),
            options: vec![("tea".to_owned(), 0), ("coffee".to_owned(), 0)],
            voters_count: 0,
            created_at: 1000,
        },
    )
    .await
    .expect("poll");
    tx.commit().await.expect("commit");
    7
}

fn choice(id: i64, choice: i32) -> NewVote {
    NewVote {
        id,
        choice,
        uri: None,
    }
}

async fn vote(db: &Db, account_id: i64, votes: &[NewVote]) -> Vote {
    let mut tx: Tx = db.begin().await.expect("tx");
    let outcome = polls::vote(&mut tx, 7, account_id, votes, 2000)
        .await
        .expect("vote");
    if outcome == Vote::Counted {
        tx.commit().await.expect("commit");
    }
    outcome
}

async fn totals(db: &Db) -> (Vec<i64>, i64, i64) {
    let poll = polls::find(db, 7).await.expect("find").expect("a poll");
    let options = polls::options_of(db, &[7]).await.expect("options");
    (
        options.iter().map(|o| o.votes_count).collect(),
        poll.votes_count,
        poll.voters_count,
    )
}

#[tokio::test]
async fn votes_count_once_per_choice_and_voter() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let ann = create(&db, "ann", "ann@example.com").await;
    let ben = create(&db, "ben", "ben@example.com").await;
    let cat = create(&db, "cat", "cat@example.com").await;
    status_with_poll(&db, ann.id, true).await;

    assert_eq!(
        vote(&db, ben.id, &[choice(1, 0), choice(2, 1)]).await,
        Vote::Counted
    );
    assert_eq!(totals(&db).await, (vec![1, 1], 2, 1));
    // A choice made already: nothing of the call is written.
    assert_eq!(vote(&db, ben.id, &[choice(3, 1)]).await, Vote::ChosenBefore);
    assert_eq!(totals(&db).await, (vec![1, 1], 2, 1));
    assert_eq!(vote(&db, cat.id, &[choice(4, 1)]).await, Vote::Counted);
    assert_eq!(totals(&db).await, (vec![1, 2], 3, 2));
    let chosen = polls::choices_among(&db, ben.id, &[7])
        .await
        .expect("choices");
    assert_eq!(chosen, [(7, 0), (7, 1)]);
    assert_eq!(polls::voters(&db, 7).await.expect("voters"), {
        let mut v = vec![ben.id, cat.id];
        v.sort_unstable();
        v
    });

    // Its server's totals replace these (a remote poll's Update).
    let mut tx = db.begin().await.expect("tx");
    polls::set_remote_totals(
        &mut tx,
        7,
        &RemoteTotals {
            options: vec![10, 4],
            voters_count: Some(12),
            expires_at: Some(3000),
        },
        2500,
    )
    .await
    .expect("totals");
    tx.commit().await.expect("commit");
    assert_eq!(totals(&db).await, (vec![10, 4], 14, 12));
    let poll = polls::find(&db, 7).await.expect("find").expect("poll");
    assert_eq!(poll.expires_at, Some(3000));
    assert!(!poll.expired(2999) && poll.expired(3000));
}

#[tokio::test]
async fn a_poll_is_closed_once_when_due() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let ann = create(&db, "ann", "ann@example.com").await;
    status_with_poll(&db, ann.id, false).await;
    assert!(
        polls::due_to_close(&db, 4999, 10)
            .await
            .expect("due")
            .is_empty()
    );
    let due = polls::due_to_close(&db, 5000, 10).await.expect("due");
    assert_eq!(due.iter().map(|p| p.id).collect::<Vec<_>>(), [7]);
    let mut tx = db.begin().await.expect("tx");
    assert!(polls::close(&mut tx, 7, 5001).await.expect("close"));
    tx.commit().await.expect("commit");
    let mut tx = db.begin().await.expect("tx");
    assert!(
        !polls::close(&mut tx, 7, 5002).await.expect("close"),
        "closed once"
    );
    drop(tx);
    assert!(
        polls::due_to_close(&db, 9999, 10)
            .await
            .expect("due")
            .is_empty()
    );
    let poll = polls::for_status(&db, 100)
        .await
        .expect("find")
        .expect("poll");
    assert_eq!(poll.closed_at, Some(5001));

    // Its status's deletion takes the poll with it.
    let mut tx = db.begin().await.expect("tx");
    statuses::delete(&mut tx, 100).await.expect("delete");
    tx.commit().await.expect("commit");
    assert!(polls::find(&db, 7).await.expect("find").is_none());
    assert!(
        polls::options_of(&db, &[7])
            .await
            .expect("options")
            .is_empty()
    );
}
