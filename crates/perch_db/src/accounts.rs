//! Accounts (local and remote), local users' credentials, and actor keys.

use perch_core::account::{Email, Username};
use perch_core::id::Id;
use perch_core::time::UnixMillis;

use crate::{Db, Error, Result};

/// A row of `accounts`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    /// `None` for local accounts.
    pub domain: Option<String>,
    pub uri: String,
    pub url: Option<String>,
    pub actor_type: String,
    pub display_name: String,
    pub note: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub inbox_url: Option<String>,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    pub last_status_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The ActivityPub addresses of a local actor, decided by the federation layer.
#[derive(Clone, Debug)]
pub struct ActorUrls {
    pub uri: String,
    pub url: String,
    pub inbox_url: String,
    pub shared_inbox_url: String,
    pub outbox_url: String,
    pub followers_url: String,
    pub following_url: String,
}

/// A PEM-encoded key pair and its public id (`…#main-key`).
#[derive(Clone)]
pub struct KeyPairPem {
    pub key_id: String,
    pub public_key_pem: String,
    pub private_key_pem: String,
}

impl std::fmt::Debug for KeyPairPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPairPem")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Everything needed to create a local account in one transaction.
#[derive(Debug)]
pub struct NewLocalAccount {
    pub id: Id,
    pub username: Username,
    pub email: Email,
    pub password_hash: String,
    pub admin: bool,
    pub approved: bool,
    pub locale: String,
    pub urls: ActorUrls,
    pub keys: KeyPairPem,
    pub created_at: UnixMillis,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    #[error("username is already taken")]
    UsernameTaken,
    #[error("email address is already in use")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] Error),
}

/// A local user as the operator sees it (`perch user list`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LocalUserSummary {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub admin: bool,
    pub approved: bool,
    pub created_at: i64,
}

/// The columns of [`AccountRow`], for `concat!` into static queries.
macro_rules! account_columns {
    () => {
        "id, username, domain, uri, url, actor_type, display_name, note, locked, bot, \
         discoverable, avatar_url, header_url, inbox_url, shared_inbox_url, outbox_url, \
         followers_url, following_url, followers_count, following_count, statuses_count, \
         last_status_at, created_at, updated_at"
    };
}

/// Create a local account with its credentials and key pair, atomically.
pub async fn create_local(
    db: &Db,
    new: &NewLocalAccount,
) -> std::result::Result<AccountRow, CreateAccountError> {
    let id = new.id.as_i64();
    let urls = &new.urls;
    let mut tx = db.begin().await?;
    let inserted: Result<()> = on_tx!(&mut tx, conn => async {
        sqlx::query(
            "INSERT INTO accounts (id, username, domain, uri, url, inbox_url, shared_inbox_url, \
             outbox_url, followers_url, following_url, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(id)
        .bind(new.username.as_str())
        .bind(urls.uri.as_str())
        .bind(urls.url.as_str())
        .bind(urls.inbox_url.as_str())
        .bind(urls.shared_inbox_url.as_str())
        .bind(urls.outbox_url.as_str())
        .bind(urls.followers_url.as_str())
        .bind(urls.following_url.as_str())
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO users (account_id, email, password_hash, locale, admin, approved, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(id)
        .bind(new.email.as_str())
        .bind(new.password_hash.as_str())
        .bind(new.locale.as_str())
        .bind(new.admin)
        .bind(new.approved)
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO account_keys (account_id, key_id, public_key_pem, private_key_pem, \
             created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(new.keys.key_id.as_str())
        .bind(new.keys.public_key_pem.as_str())
        .bind(new.keys.private_key_pem.as_str())
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
    .await);
    inserted.map_err(|error| match error {
        Error::UniqueViolation(name) if name.contains("email") => CreateAccountError::EmailTaken,
        Error::UniqueViolation(name) if name.contains("username") || name.contains("uri") => {
            CreateAccountError::UsernameTaken
        }
        other => CreateAccountError::Db(other),
    })?;
    tx.commit().await?;
    find_by_id(db, new.id)
        .await?
        .ok_or(CreateAccountError::Db(Error::Sqlx(
            sqlx::Error::RowNotFound,
        )))
}

pub async fn find_by_id(db: &Db, id: Id) -> Result<Option<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", account_columns!(), " FROM accounts WHERE id = $1"))
            .bind(id.as_i64())
            .fetch_optional(pool)
            .await?
    }))
}

/// A local account by username, case-insensitively.
pub async fn find_local_by_username(db: &Db, username: &str) -> Result<Option<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", account_columns!(),
            " FROM accounts WHERE lower(username) = lower($1) AND domain IS NULL"
        ))
        .bind(username)
        .fetch_optional(pool)
        .await?
    }))
}

/// Every local user, oldest first.
pub async fn list_local_users(db: &Db) -> Result<Vec<LocalUserSummary>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT a.id, a.username, u.email, u.admin, u.approved, u.created_at \
             FROM accounts a JOIN users u ON u.account_id = a.id ORDER BY a.id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// The number of local users (NodeInfo, instance statistics).
pub async fn count_local_users(db: &Db) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?
    }))
}
