//! The database handle shared by every module.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::{Migrate, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

use crate::{Error, Result};

/// How a SQLite write transaction starts (see [`Db::begin`]).
pub(crate) const SQLITE_BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which database engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Pool settings.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// How long to wait for a connection, at start-up and per query.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A connection pool to SQLite or PostgreSQL. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction on either backend. Dropped without [`Tx::commit`], it
/// rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Db {
    /// Open a pool for a `sqlite://…` or `postgres://…` URL and check that the
    /// database answers. SQLite files are created when missing and run in WAL
    /// mode with foreign keys enforced and a busy timeout.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Db> {
        let connect_error = |source| Error::Connect {
            url: redact_url(url),
            source,
        };
        match backend_of(url) {
            Some(Backend::Sqlite) => {
                let connect = SqliteConnectOptions::from_str(url)
                    .map_err(connect_error)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                // One direct connection first: a pool retries until its
                // timeout and then reports only that, hiding the real cause.
                SqliteConnection::connect_with(&connect)
                    .await
                    .map_err(connect_error)?
                    .close()
                    .await
                    .map_err(connect_error)?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(options.max_connections)
                    .min_connections(1)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(connect_error)?;
                Ok(Db::Sqlite(pool))
            }
            Some(Backend::Postgres) => {
                // JIT off: Perch's statements are short, and a plan whose
                // estimate crosses `jit_above_cost` (a home timeline page
                // past the kept feed at 2 M statuses) spent 130 ms
                // compiling to run in 4.
                let connect = PgConnectOptions::from_str(url)
                    .map_err(connect_error)?
                    .application_name("perch")
                    .options([("jit", "off")]);
                PgConnection::connect_with(&connect)
                    .await
                    .map_err(connect_error)?
                    .close()
                    .await
                    .map_err(connect_error)?;
                let pool = PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await
                    .map_err(connect_error)?;
                Ok(Db::Postgres(pool))
            }
            None => Err(Error::UnsupportedUrl(redact_url(url))),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply pending migrations; returns how many were applied. Safe to run
    /// from several processes at once on PostgreSQL (the migrator holds an
    /// advisory lock).
    pub async fn migrate(&self) -> Result<usize> {
        on_db!(self, pool => {
            let migrator = match self.backend() {
                Backend::Sqlite => &SQLITE_MIGRATIONS,
                Backend::Postgres => &POSTGRES_MIGRATIONS,
            };
            let before = {
                let mut conn = pool.acquire().await?;
                conn.ensure_migrations_table().await?;
                conn.list_applied_migrations().await?.len()
            };
            migrator.run(pool).await?;
            let total = migrator
                .iter()
                .filter(|m| m.migration_type.is_up_migration())
                .count();
            Ok(total.saturating_sub(before))
        })
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Open a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), waiting up to the busy timeout: a deferred
    /// transaction that reads first cannot take the lock later once
    /// another connection has written, and would fail at its first write
    /// instead of waiting.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with(SQLITE_BEGIN_WRITE).await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Close every connection; later queries fail.
    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

fn backend_of(url: &str) -> Option<Backend> {
    let scheme = url.split_once(':')?.0;
    match scheme {
        "sqlite" => Some(Backend::Sqlite),
        "postgres" | "postgresql" => Some(Backend::Postgres),
        _ => None,
    }
}

/// The URL with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot carry credentials, which this
            // one just did.
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Ids as the JSON array SQLite's `json_each` reads.
pub(crate) fn json_ids(ids: &[i64]) -> String {
    let mut text = String::with_capacity(ids.len() * 20 + 2);
    text.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&id.to_string());
    }
    text.push(']');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_by_scheme() {
        assert_eq!(backend_of("sqlite://data/perch.db"), Some(Backend::Sqlite));
        assert_eq!(backend_of("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(backend_of("postgres://u@h/db"), Some(Backend::Postgres));
        assert_eq!(backend_of("postgresql://u@h/db"), Some(Backend::Postgres));
        assert_eq!(backend_of("mysql://u@h/db"), None);
        assert_eq!(backend_of("perch.db"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://perch:secret@db:5432/perch"),
            "postgres://perch:****@db:5432/perch"
        );
        assert_eq!(
            redact_url("postgres://perch@db/perch"),
            "postgres://perch@db/perch"
        );
        assert_eq!(
            redact_url("sqlite://data/perch.db"),
            "sqlite://data/perch.db"
        );
    }
}
