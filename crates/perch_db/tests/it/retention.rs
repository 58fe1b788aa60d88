//! Purges of what is kept only for a while: each deletes what is older than
//! its limit, in batches, and nothing younger.

use perch_db::deliveries::{self, NewActivity, Target};
use perch_db::oauth::{self, AppRow, NewCode, NewRefreshToken, NewSession};
use perch_db::statuses::{self, NewStatus};
use perch_db::testing::TestDatabase;
use perch_db::{Db, actors, retention};

use crate::accounts::create;

async fn count(db: &Db, table: &str) -> i64 {
    // Table names come from the tests themselves.
    let query = format!("SELECT COUNT(*) FROM {table}");
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(&query).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(&query).fetch_one(pool).await,
    }
    .expect("count")
}

#[tokio::test]
async fn received_activity_ids_go_in_batches_and_only_old_ones() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let sender = create(&db, "sender", "sender@example.com").await;
    let old = retention::BATCH + 5;
    let mut tx = db.begin().await.expect("tx");
    for n in 0..old {
        let uri = format!("https://a.example/activities/old-{n}");
        actors::record_received(&mut tx, &uri, sender.id, 1_000 + n)
            .await
            .expect("record");
    }
    actors::record_received(
        &mut tx,
        "https://a.example/activities/new",
        sender.id,
        50_000,
    )
    .await
    .expect("record");
    tx.commit().await.expect("commit");

    let first = retention::received_activities(&db, 10_000)
        .await
        .expect("purge");
    assert_eq!(first, retention::BATCH as u64, "one batch at most");
    let second = retention::received_activities(&db, 10_000)
        .await
        .expect("purge");
    assert_eq!(second, 5);
    assert_eq!(
        retention::received_activities(&db, 10_000)
            .await
            .expect("purge"),
        0
    );
    assert_eq!(
        count(&db, "received_activities").await,
        1,
        "the new one stays"
    );
}

#[tokio::test]
async fn finished_deliveries_then_their_activities_go_pending_ones_stay() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let author = create(&db, "author", "author@example.com").await;
    for (id, inboxes) in [(1, vec![11, 12]), (2, vec![21])] {
        let activity = NewActivity {
            id,
            uri: format!("https://perch.example/activities/{id}"),
            actor_account_id: author.id,
            body: "{}".to_owned(),
            created_at: 1_000,
            order_key: format!("https://perch.example/notes/{id}"),
        };
        let targets: Vec<Target> = inboxes
            .iter()
            .map(|d| Target {
                delivery_id: *d,
                inbox_url: format!("https://s{d}.example/inbox"),
                host: format!("s{d}.example"),
            })
            .collect();
        let mut tx = db.begin().await.expect("tx");
        deliveries::enqueue(&mut tx, &activity, &targets)
            .await
            .expect("enqueue");
        tx.commit().await.expect("commit");
    }
    let claimed = deliveries::claim_due(&db, "w", 1_000, 61_000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    // Activity 1: both delivered long ago. Activity 2: still pending.
    for job in claimed.iter().filter(|j| j.id != 21) {
        deliveries::mark_delivered(&db, job.id, "w", 202, 2_000)
            .await
            .expect("delivered");
    }
    assert_eq!(
        retention::finished_deliveries(&db, 1_500)
            .await
            .expect("purge"),
        0,
        "too recent"
    );
    assert_eq!(
        retention::finished_deliveries(&db, 10_000)
            .await
            .expect("purge"),
        2
    );
    assert_eq!(count(&db, "deliveries").await, 1, "the pending job stays");
    assert_eq!(
        retention::delivered_activities(&db, 10_000)
            .await
            .expect("purge"),
        1
    );
    assert_eq!(
        count(&db, "outbound_activities").await,
        1,
        "activity 2 is still needed"
    );
}

#[tokio::test]
async fn expired_codes_and_refresh_tokens_go() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let user = create(&db, "user", "user@example.com").await;
    let app = AppRow {
        id: 1,
        name: "app".to_owned(),
        website: None,
        redirect_uris: "urn:ietf:wg:oauth:2.0:oob".to_owned(),
        scopes: "read".to_owned(),
        client_id: "client".to_owned(),
        client_secret_hash: "secret".to_owned(),
        created_at: 0,
    };
    oauth::create_app(&db, &app).await.expect("app");
    for (hash, expires_at) in [("old", 1_000), ("new", 90_000)] {
        let code = NewCode {
            code_hash: format!("code-{hash}"),
            app_id: 1,
            account_id: user.id,
            redirect_uri: "urn:ietf:wg:oauth:2.0:oob".to_owned(),
            scopes: "read".to_owned(),
            code_challenge: None,
            code_challenge_method: None,
            created_at: 0,
            expires_at,
        };
        oauth::create_code(&db, &code).await.expect("code");
    }
    for (id, expires_at) in [(10, 1_000), (11, 90_000)] {
        let session = NewSession {
            id,
            app_id: 1,
            account_id: Some(user.id),
            scopes: "read".to_owned(),
            created_at: 0,
        };
        let refresh = NewRefreshToken {
            token_hash: format!("token-{id}"),
            expires_at,
        };
        oauth::create_session(&db, &session, Some(&refresh))
            .await
            .expect("session");
    }
    assert_eq!(
        retention::expired_credentials(&db, 50_000)
            .await
            .expect("purge"),
        2
    );
    assert_eq!(count(&db, "authorization_codes").await, 1);
    assert_eq!(count(&db, "refresh_tokens").await, 1);
}

#[tokio::test]
async fn an_idempotency_key_is_taken_over_after_its_window_and_purged() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let ann = create(&db, "ann", "ann@example.com").await;
    let mut tx = db.begin().await.expect("tx");
    for id in [100, 101] {
        let status = NewStatus {
            id,
            account_id: ann.id,
            uri: format!("https://perch.example/users/ann/statuses/{id}"),
            url: None,
            content: "<p>hi</p>".to_owned(),
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
            created_at: 1_000,
        };
        statuses::insert(&mut tx, &status, &[], &[])
            .await
            .expect("status");
    }
    assert!(
        statuses::remember_idempotency_key(&mut tx, ann.id, "k", 100, 1_000, 0)
            .await
            .expect("remember")
    );
    // Within the window (not before 500): the first status keeps the key.
    assert!(
        !statuses::remember_idempotency_key(&mut tx, ann.id, "k", 101, 1_200, 500)
            .await
            .expect("remember")
    );
    // After it (not before 5,000): the key is taken over.
    assert!(
        statuses::remember_idempotency_key(&mut tx, ann.id, "k", 101, 9_000, 5_000)
            .await
            .expect("remember")
    );
    tx.commit().await.expect("commit");
    assert_eq!(
        statuses::by_idempotency_key(&db, ann.id, "k", 5_000)
            .await
            .expect("lookup"),
        Some(101)
    );
    assert_eq!(
        retention::idempotency_keys(&db, 5_000)
            .await
            .expect("purge"),
        0
    );
    assert_eq!(
        retention::idempotency_keys(&db, 10_000)
            .await
            .expect("purge"),
        1
    );
    assert_eq!(count(&db, "status_idempotency").await, 0);
}

fn post(id: i64, account_id: i64, visibility: i16) -> NewStatus {
    NewStatus {
        id,
        account_id,
        uri: format!("https://perch.example/statuses/{id}"),
        url: None,
        content: format!("<p>{id}</p>"),
        source_text: None,
        spoiler_text: String::new(),
        sensitive: false,
        visibility,
        language: None,
        local: true,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        in_reply_to_uri: None,
        reblog_of_id: None,
        created_at: id,
    }
}

#[tokio::test]
async fn trimmed_home_feeds_still_page_back_in_order() {
    use perch_db::follows::{self, NewFollow};
    use perch_db::page::Page;
    use perch_db::timelines;

    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let reader = create(&db, "reader", "reader@example.com").await;
    let author = create(&db, "author", "author@example.com").await;
    let stranger = create(&db, "stranger", "stranger@example.com").await;
    let mut tx = db.begin().await.expect("tx");
    let follow = NewFollow {
        id: 1,
        account_id: reader.id,
        target_account_id: author.id,
        uri: None,
        created_at: 0,
    };
    follows::insert_follow(&mut tx, &follow)
        .await
        .expect("follow");
    // The author's posts 101..=110 (108 is direct to nobody), the
    // reader's own 111, a stranger's 112.
    for id in 101..=110 {
        let visibility = if id == 108 { 3 } else { 0 };
        statuses::insert(&mut tx, &post(id, author.id, visibility), &[], &[])
            .await
            .expect("status");
        statuses::fan_out(&mut tx, id, author.id, visibility != 3, &[], false)
            .await
            .expect("fan out");
    }
    statuses::insert(&mut tx, &post(111, reader.id, 0), &[], &[])
        .await
        .expect("status");
    statuses::fan_out(&mut tx, 111, reader.id, true, &[], false)
        .await
        .expect("fan out");
    statuses::insert(&mut tx, &post(112, stranger.id, 0), &[], &[])
        .await
        .expect("status");
    tx.commit().await.expect("commit");
    let ids = |rows: Vec<statuses::StatusRow>| rows.iter().map(|r| r.id).collect::<Vec<_>>();
    let everything = ids(timelines::home(&db, reader.id, &Page::newest(40))
        .await
        .expect("home"));
    let expected: Vec<i64> = vec![111, 110, 109, 107, 106, 105, 104, 103, 102, 101];
    assert_eq!(everything, expected);

    // Keep 3 entries in each feed: the reader's 111, 110, 109, and the
    // author's own 110, 109, 108 (of ten each).
    assert_eq!(retention::home_feeds(&db, 3).await.expect("trim"), 14);
    assert_eq!(count(&db, "home_feed").await, 6);
    assert_eq!(retention::home_feeds(&db, 3).await.expect("trim"), 0);
    // The same timeline, page by page, past the trim.
    let mut paged = Vec::new();
    let mut max_id = None;
    for _ in 0..10 {
        let page = Page {
            max_id,
            since_id: None,
            min_id: None,
            limit: 4,
        };
        let rows = ids(timelines::home(&db, reader.id, &page).await.expect("home"));
        if rows.is_empty() {
            break;
        }
        max_id = rows.last().copied();
        paged.extend(rows);
    }
    assert_eq!(
        paged, expected,
        "no gap, no repeat, nothing not the reader's to see"
    );
}

#[tokio::test]
async fn list_timelines_keep_their_newest_entries_and_exclusive_ones_stay_out_of_home() {
    use perch_db::follows::{self, NewFollow};
    use perch_db::lists::{self, ListRow};
    use perch_db::page::Page;

    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let reader = create(&db, "reader", "reader@example.com").await;
    let author = create(&db, "author", "author@example.com").await;
    let list = ListRow {
        id: 7,
        account_id: reader.id,
        title: "authors".to_owned(),
        replies_policy: "list".to_owned(),
        exclusive: true,
        created_at: 0,
    };
    let mut tx = db.begin().await.expect("tx");
    let follow = NewFollow {
        id: 1,
        account_id: reader.id,
        target_account_id: author.id,
        uri: None,
        created_at: 0,
    };
    follows::insert_follow(&mut tx, &follow)
        .await
        .expect("follow");
    lists::insert(&mut tx, &list).await.expect("list");
    assert!(
        lists::add_member(&mut tx, 2, &list, author.id)
            .await
            .expect("member")
    );
    for id in 101..=110 {
        statuses::insert(&mut tx, &post(id, author.id, 0), &[], &[])
            .await
            .expect("status");
        statuses::fan_out(&mut tx, id, author.id, true, &[], false)
            .await
            .expect("fan out");
    }
    statuses::insert(&mut tx, &post(111, reader.id, 0), &[], &[])
        .await
        .expect("status");
    statuses::fan_out(&mut tx, 111, reader.id, true, &[], false)
        .await
        .expect("fan out");
    tx.commit().await.expect("commit");
    assert_eq!(count(&db, "list_feed").await, 10);

    // The author is in an exclusive list of the reader's: not at home,
    // neither from the feed nor, once it is trimmed, from the statuses.
    let home = |page: Page| {
        let db = db.clone();
        async move {
            perch_db::timelines::home(&db, reader.id, &page)
                .await
                .expect("home")
                .iter()
                .map(|s| s.id)
                .collect::<Vec<i64>>()
        }
    };
    assert_eq!(home(Page::newest(20)).await, [111]);
    retention::home_feeds(&db, 3).await.expect("trim");
    let past_the_feed = Page {
        max_id: Some(111),
        since_id: None,
        min_id: None,
        limit: 20,
    };
    assert_eq!(home(past_the_feed).await, Vec::<i64>::new());

    assert_eq!(retention::list_feeds(&db, 3).await.expect("trim"), 7);
    assert_eq!(retention::list_feeds(&db, 3).await.expect("trim"), 0);
    let kept: Vec<i64> = lists::timeline(&db, list.id, reader.id, &Page::newest(20))
        .await
        .expect("timeline")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(kept, [110, 109, 108]);
}
