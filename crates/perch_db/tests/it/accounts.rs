use perch_core::account::{Email, Username};
use perch_core::id::IdGenerator;
use perch_core::time::now_millis;
use perch_db::Db;
use perch_db::accounts::{
    self, AccountRow, ActorUrls, CreateAccountError, KeyPairPem, NewLocalAccount,
};
use perch_db::testing::TestDatabase;

static IDS: std::sync::LazyLock<IdGenerator> =
    std::sync::LazyLock::new(|| IdGenerator::new(0).expect("node 0"));

fn new_account(username: &str, email: &str) -> NewLocalAccount {
    let actor = format!("https://perch.example/users/{username}");
    NewLocalAccount {
        id: IDS.next_id(),
        username: Username::parse(username).expect("valid username"),
        email: Email::parse(email).expect("valid email"),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".to_owned(),
        role: perch_core::role::Role::User,
        approved: true,
        locale: "en".to_owned(),
        phone: None,
        reason: None,
        urls: ActorUrls {
            url: format!("https://perch.example/@{username}"),
            inbox_url: format!("{actor}/inbox"),
            outbox_url: format!("{actor}/outbox"),
            followers_url: format!("{actor}/followers"),
            following_url: format!("{actor}/following"),
            shared_inbox_url: "https://perch.example/inbox".to_owned(),
            uri: actor.clone(),
        },
        keys: KeyPairPem {
            key_id: format!("{actor}#main-key"),
            public_key_pem: "public".to_owned(),
            private_key_pem: "private".to_owned(),
        },
        created_at: now_millis(),
    }
}

pub async fn create(db: &Db, username: &str, email: &str) -> AccountRow {
    accounts::create_local(db, &new_account(username, email))
        .await
        .expect("created")
}

#[tokio::test]
async fn create_and_find_local_accounts() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let created = create(&db, "Alice", "alice@example.com").await;
    assert_eq!(created.username, "Alice");
    assert_eq!(created.domain, None);
    assert_eq!(created.uri, "https://perch.example/users/Alice");
    assert_eq!(
        (
            created.followers_count,
            created.following_count,
            created.statuses_count
        ),
        (0, 0, 0)
    );
    assert!(!created.locked && created.discoverable);

    let found = accounts::find_local_by_username(&db, "aLiCe")
        .await
        .expect("query");
    assert_eq!(found.map(|a| a.id), Some(created.id));
    assert!(
        accounts::find_local_by_username(&db, "nobody")
            .await
            .expect("query")
            .is_none()
    );
    let stats = accounts::instance_stats(&db, 0).await.expect("stats");
    assert_eq!(stats.local_users, 1);
}

#[tokio::test]
async fn usernames_and_emails_are_unique_case_insensitively_and_nothing_partial_is_written() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    create(&db, "alice", "alice@example.com").await;

    let taken = accounts::create_local(&db, &new_account("ALICE", "other@example.com")).await;
    assert!(
        matches!(taken, Err(CreateAccountError::UsernameTaken)),
        "{taken:?}"
    );

    // The account row would insert, the user row would not: the whole
    // transaction must roll back.
    let taken = accounts::create_local(&db, &new_account("bob", "Alice@Example.com")).await;
    assert!(
        matches!(taken, Err(CreateAccountError::EmailTaken)),
        "{taken:?}"
    );
    assert!(
        accounts::find_local_by_username(&db, "bob")
            .await
            .expect("query")
            .is_none()
    );

    let users = accounts::list_local_users(&db).await.expect("list");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].username, "alice");
}

#[tokio::test]
async fn users_are_listed_oldest_first() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    for name in ["first", "second", "third"] {
        create(&db, name, &format!("{name}@example.com")).await;
    }
    let names: Vec<String> = accounts::list_local_users(&db)
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["first", "second", "third"]);
}
