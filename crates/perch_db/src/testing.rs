//! Throwaway databases for tests.
//!
//! The backend is chosen per test run: PostgreSQL when
//! `PERCH_TEST_POSTGRES_URL` names a server (the test script starts a
//! throwaway cluster and sets it), SQLite otherwise. Each
//! [`TestDatabase::create`] makes a new, empty database — a file in its own
//! temporary directory, or a uniquely named PostgreSQL database — so tests
//! never see each other's rows and may run in parallel.

use rand::Rng;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::{Backend, ConnectOptions, Db};

/// Name of the variable that selects PostgreSQL for a test run.
pub const POSTGRES_URL_VAR: &str = "PERCH_TEST_POSTGRES_URL";

/// The backend this test run uses.
pub fn backend() -> Backend {
    match postgres_server_url() {
        Some(_) => Backend::Postgres,
        None => Backend::Sqlite,
    }
}

fn postgres_server_url() -> Option<String> {
    std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty())
}

/// A fresh database. SQLite files are removed when it is dropped; PostgreSQL
/// databases live as long as the throwaway cluster of the test run.
pub struct TestDatabase {
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// # Panics
    /// When the database cannot be created: a test cannot go on without it.
    pub async fn create() -> TestDatabase {
        match postgres_server_url() {
            Some(server) => Self::create_postgres(&server).await,
            None => Self::create_sqlite(),
        }
    }

    fn create_sqlite() -> TestDatabase {
        #[allow(clippy::expect_used)]
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("perch.db").display());
        TestDatabase {
            url,
            _dir: Some(dir),
        }
    }

    async fn create_postgres(server: &str) -> TestDatabase {
        let name = format!("perch_test_{:016x}", rand::thread_rng().r#gen::<u64>());
        let mut conn = PgConnection::connect(server)
            .await
            .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_VAR}: {e}"));
        // The name is generated above, never taken from input.
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
        let _ = conn.close().await;
        let mut url = url::Url::parse(server)
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is not a URL: {e}"));
        url.set_path(&name);
        TestDatabase {
            url: url.to_string(),
            _dir: None,
        }
    }

    /// The database's URL, as `PERCH_DATABASE_URL` would name it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connect and apply the migrations.
    ///
    /// # Panics
    /// When connecting or migrating fails.
    pub async fn connect(&self) -> Db {
        let db = Db::connect(&self.url, &ConnectOptions::default())
            .await
            .unwrap_or_else(|e| panic!("connect to test database: {e}"));
        db.migrate()
            .await
            .unwrap_or_else(|e| panic!("migrate test database: {e}"));
        db
    }
}

/// The rows that name `account_id` through a foreign key to `accounts`,
/// as `table.column` and how many (columns naming it nowhere are left
/// out): what a test of an account's deletion checks, found from the
/// catalog so that a table added later is checked too.
pub async fn rows_naming_account(db: &Db, account_id: i64) -> Vec<(String, i64)> {
    let columns: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, p.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) p \
             WHERE m.type = 'table' AND p.\"table\" = 'accounts' ORDER BY 1, 2",
        )
        .fetch_all(pool)
        .await
        .expect("foreign keys"),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT cl.relname::text, att.attname::text FROM pg_constraint c \
             JOIN pg_class cl ON cl.oid = c.conrelid \
             JOIN pg_attribute att ON att.attrelid = c.conrelid AND att.attnum = ANY (c.conkey) \
             WHERE c.contype = 'f' AND c.confrelid = 'accounts'::regclass ORDER BY 1, 2",
        )
        .fetch_all(pool)
        .await
        .expect("foreign keys"),
    };
    let mut found = Vec::new();
    for (table, column) in columns {
        // Identifiers from the catalog, not from input.
        let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE \"{column}\" = $1");
        let count: i64 = match db {
            Db::Sqlite(pool) => {
                sqlx::query_scalar(&sql)
                    .bind(account_id)
                    .fetch_one(pool)
                    .await
            }
            Db::Postgres(pool) => {
                sqlx::query_scalar(&sql)
                    .bind(account_id)
                    .fetch_one(pool)
                    .await
            }
        }
        .expect("count");
        if count > 0 {
            found.push((format!("{table}.{column}"), count));
        }
    }
    found
}

/// The body of the newest outbound activity of `kind` (`Update`…), as it
/// was queued for delivery.
pub async fn latest_outbound_of_type(db: &Db, kind: &str) -> Option<serde_json::Value> {
    const SQL: &str = "SELECT body FROM outbound_activities ORDER BY created_at DESC, id DESC";
    let bodies: Vec<String> = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(SQL).fetch_all(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(SQL).fetch_all(pool).await,
    }
    .expect("outbound activities");
    bodies
        .iter()
        .filter_map(|body| serde_json::from_str::<serde_json::Value>(body).ok())
        .find(|body| body["type"] == kind)
}
