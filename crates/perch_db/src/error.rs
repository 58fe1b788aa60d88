use std::borrow::Cow;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported database URL `{0}`: expected sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database at {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A unique constraint refused the write; the name is the index or
    /// constraint, so callers can tell which value was taken.
    #[error("unique constraint `{0}` violated")]
    UniqueViolation(String),
    #[error("database error")]
    Sqlx(#[source] sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        match unique_violation(&error) {
            Some(name) => Error::UniqueViolation(name.into_owned()),
            None => Error::Sqlx(error),
        }
    }
}

/// The index or constraint behind a unique violation. PostgreSQL names the
/// constraint; SQLite only says so in its message ("UNIQUE constraint failed:
/// index 'users_email'" or "…: accounts.uri").
fn unique_violation(error: &sqlx::Error) -> Option<Cow<'_, str>> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    if let Some(name) = db.constraint() {
        return Some(Cow::Borrowed(name));
    }
    let detail = db.message().rsplit(": ").next().unwrap_or_default();
    let detail = detail
        .strip_prefix("index '")
        .and_then(|rest| rest.strip_suffix('\''))
        .unwrap_or(detail);
    Some(Cow::Owned(detail.to_owned()))
}
