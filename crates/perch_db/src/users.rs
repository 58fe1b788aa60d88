//! Local users' credentials and sign-in state.

use perch_core::role::Role;
use perch_core::time::UnixMillis;

use crate::{Db, Result};

/// What sign-in needs to know about a local user.
#[derive(Clone, sqlx::FromRow)]
pub struct UserCredentials {
    pub account_id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    /// The role's name (see [`UserCredentials::role`]).
    pub role: String,
    pub approved: bool,
    pub disabled_at: Option<i64>,
    /// When a moderator suspended the account.
    pub suspended_at: Option<i64>,
    pub locale: String,
    pub totp_secret: Option<String>,
    pub totp_confirmed_at: Option<i64>,
    pub totp_last_used_step: Option<i64>,
    /// The visibility new posts start with (perch_core's numbering), when
    /// the user chose one.
    pub default_visibility: Option<i16>,
    /// Whether new posts with media start sensitive.
    pub default_sensitive: bool,
    /// The language new posts are in, when the user chose one.
    pub default_language: Option<String>,
}

impl UserCredentials {
    /// Two-factor authentication is required at sign-in.
    pub fn two_factor_enabled(&self) -> bool {
        self.totp_secret.is_some() && self.totp_confirmed_at.is_some()
    }

    /// The user's role; a name this version does not know counts as
    /// the least trusted.
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::User)
    }

    /// The account may sign in (approved, neither disabled nor suspended).
    pub fn may_sign_in(&self) -> bool {
        self.approved && self.disabled_at.is_none() && self.suspended_at.is_none()
    }
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials")
            .field("account_id", &self.account_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

macro_rules! credential_columns {
    () => {
        "u.account_id, a.username, u.email, u.password_hash, u.role, u.approved, \
         u.disabled_at, a.suspended_at, u.locale, u.totp_secret, u.totp_confirmed_at, u.totp_last_used_step, \
         u.default_visibility, u.default_sensitive, u.default_language"
    };
}

/// A local user by email address or username (both case-insensitive), as the
/// OAuth password grant and the sign-in form accept either.
pub async fn find_by_login(db: &Db, login: &str) -> Result<Option<UserCredentials>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", credential_columns!(),
            " FROM users u JOIN accounts a ON a.id = u.account_id \
             WHERE lower(u.email) = lower($1) \
                OR (lower(a.username) = lower($1) AND a.domain IS NULL)"
        ))
        .bind(login)
        .fetch_optional(pool)
        .await?
    }))
}

pub async fn find_by_account_id(db: &Db, account_id: i64) -> Result<Option<UserCredentials>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", credential_columns!(),
            " FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.account_id = $1"
        ))
        .bind(account_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Record a used TOTP step, only if it is newer than the last one: of two
/// concurrent sign-ins with the same code, one wins.
pub async fn use_totp_step(db: &Db, account_id: i64, step: i64) -> Result<bool> {
    let updated = on_db!(db, pool => {
        sqlx::query(
            "UPDATE users SET totp_last_used_step = $1 \
             WHERE account_id = $2 \
               AND (totp_last_used_step IS NULL OR totp_last_used_step < $1)",
        )
        .bind(step)
        .bind(account_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(updated == 1)
}

/// Start two-factor set-up with a new, unconfirmed secret (replacing any
/// unconfirmed one). Does nothing once two-factor is confirmed.
pub async fn set_pending_totp_secret(
    db: &Db,
    account_id: i64,
    secret: &str,
    now: UnixMillis,
) -> Result<bool> {
    let updated = on_db!(db, pool => {
        sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_last_used_step = NULL, updated_at = $2 \
             WHERE account_id = $3 AND totp_confirmed_at IS NULL",
        )
        .bind(secret)
        .bind(now)
        .bind(account_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(updated == 1)
}

/// Confirm two-factor set-up and store the recovery codes' hashes, atomically.
pub async fn confirm_totp(
    db: &Db,
    account_id: i64,
    step: i64,
    recovery_code_hashes: &[String],
    now: UnixMillis,
) -> Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query(
            "UPDATE users SET totp_confirmed_at = $1, totp_last_used_step = $2, updated_at = $1 \
             WHERE account_id = $3",
        )
        .bind(now)
        .bind(step)
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
        for hash in recovery_code_hashes {
            sqlx::query("INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)")
                .bind(account_id)
                .bind(hash)
                .execute(&mut *conn)
                .await?;
        }
    });
    tx.commit().await
}

/// Turn two-factor authentication off and forget its recovery codes.
pub async fn disable_totp(db: &Db, account_id: i64, now: UnixMillis) -> Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_confirmed_at = NULL, \
             totp_last_used_step = NULL, updated_at = $1 WHERE account_id = $2",
        )
        .bind(now)
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
    });
    tx.commit().await
}

/// Spend a recovery code; true when it existed and was unused.
pub async fn use_recovery_code(
    db: &Db,
    account_id: i64,
    code_hash: &str,
    now: UnixMillis,
) -> Result<bool> {
    let updated = on_db!(db, pool => {
        sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .bind(code_hash)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(updated == 1)
}

/// Set a new password hash and end every other session, atomically.
pub async fn change_password(
    db: &Db,
    account_id: i64,
    password_hash: &str,
    keep_session: Option<i64>,
    now: UnixMillis,
) -> Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE account_id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
    });
    crate::oauth::revoke_account_sessions(&mut tx, account_id, keep_session, now).await?;
    tx.commit().await
}

/// Which of a sign-up's unique values are already taken, checked together
/// so that every problem is reported at once. The unique indexes still
/// decide races.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub username: bool,
    pub email: bool,
    pub phone: bool,
}

pub async fn taken(db: &Db, username: &str, email: &str, phone: Option<&str>) -> Result<Taken> {
    let (username, email, phone): (bool, bool, bool) = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT \
               EXISTS (SELECT 1 FROM accounts \
                       WHERE lower(username) = lower($1) AND domain IS NULL), \
               EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2)), \
               EXISTS (SELECT 1 FROM users WHERE phone = $3)",
        )
        .bind(username)
        .bind(email)
        .bind(phone)
        .fetch_one(pool)
        .await?
    });
    Ok(Taken {
        username,
        email,
        phone,
    })
}

/// Approve a sign-up that waits for an administrator. Returns false when
/// there is no such local user or it was approved already.
pub async fn approve(db: &Db, account_id: i64, now: UnixMillis) -> Result<bool> {
    let updated = on_db!(db, pool => {
        sqlx::query(
            "UPDATE users SET approved = TRUE, updated_at = $1 \
             WHERE account_id = $2 AND NOT approved",
        )
        .bind(now)
        .bind(account_id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(updated == 1)
}

/// Give a local user `role`; false when there is no such user.
pub async fn set_role(db: &Db, account_id: i64, role: Role) -> Result<bool> {
    let changed = on_db!(db, pool => {
        sqlx::query("UPDATE users SET role = $1 WHERE account_id = $2")
            .bind(role.as_str())
            .bind(account_id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(changed == 1)
}
