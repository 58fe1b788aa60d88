use perch_db::testing::{self, TestDatabase};
use perch_db::{Backend, ConnectOptions, Db};

#[tokio::test]
async fn migrations_apply_once() {
    let database = TestDatabase::create().await;
    let db = Db::connect(database.url(), &ConnectOptions::default())
        .await
        .expect("connects");
    assert_eq!(db.backend(), testing::backend());
    assert!(db.migrate().await.expect("migrates") >= 1);
    assert_eq!(db.migrate().await.expect("migrates again"), 0);
    db.ping().await.expect("answers");
}

#[tokio::test]
async fn postgres_sessions_run_without_jit() {
    if testing::backend() != Backend::Postgres {
        return;
    }
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let Db::Postgres(pool) = &db else {
        panic!("PostgreSQL expected");
    };
    // Every pooled connection, not only the first.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut conn = pool.acquire().await.expect("connection");
        let jit: String = sqlx::query_scalar("SHOW jit")
            .fetch_one(&mut *conn)
            .await
            .expect("show");
        assert_eq!(jit, "off");
        held.push(conn);
    }
}

#[tokio::test]
async fn sqlite_files_use_wal_and_enforce_foreign_keys() {
    if testing::backend() != Backend::Sqlite {
        return;
    }
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let Db::Sqlite(pool) = &db else {
        panic!("SQLite expected");
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .expect("pragma");
    assert_eq!(fk, 1);
    let orphan = sqlx::query(
        "INSERT INTO account_keys (account_id, key_id, public_key_pem, created_at) \
         VALUES (42, 'k', 'p', 0)",
    )
    .execute(pool)
    .await;
    assert!(orphan.is_err(), "a key without its account must be refused");
}

#[tokio::test]
async fn counters_cannot_go_below_zero() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let account = crate::accounts::create(&db, "counted", "counted@example.com").await;
    let sql = "UPDATE accounts SET followers_count = followers_count - 1 WHERE id = $1";
    let result = match &db {
        Db::Sqlite(pool) => sqlx::query(sql)
            .bind(account.id)
            .execute(pool)
            .await
            .map(|_| ()),
        Db::Postgres(pool) => sqlx::query(sql)
            .bind(account.id)
            .execute(pool)
            .await
            .map(|_| ()),
    };
    assert!(
        result.is_err(),
        "a negative count must be refused by the schema"
    );
}
