//! OAuth 2 storage: client apps, sessions (one per sign-in, the family of its
//! tokens), rotating refresh tokens and authorization codes.
//!
//! Secrets are never stored: callers pass SHA-256 hashes of client secrets,
//! refresh tokens and codes.

use perch_core::time::UnixMillis;

use crate::{Db, Result, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    /// Newline-separated.
    pub redirect_uris: String,
    /// Space-separated.
    pub scopes: String,
    pub client_id: String,
    pub client_secret_hash: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub app_id: i64,
    /// `None` for client-credentials sessions (the app itself, no user).
    pub account_id: Option<i64>,
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub id: i64,
    pub app_id: i64,
    pub account_id: Option<i64>,
    pub scopes: String,
    pub created_at: UnixMillis,
}

#[derive(Clone, Debug)]
pub struct NewRefreshToken {
    pub token_hash: String,
    pub expires_at: UnixMillis,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CodeRow {
    pub app_id: i64,
    pub account_id: i64,
    pub redirect_uri: String,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewCode {
    pub code_hash: String,
    pub app_id: i64,
    pub account_id: i64,
    pub redirect_uri: String,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// What presenting a refresh token led to.
#[derive(Debug)]
pub enum Rotation {
    /// The token was valid: it is now used, and the new one replaces it.
    Rotated(SessionRow),
    /// The token had been used before: the whole session (every token of the
    /// family) is now revoked, as RFC 9700 §4.14 asks.
    ReuseDetected,
    /// Unknown, expired, or its session already revoked.
    Invalid,
}

macro_rules! app_columns {
    () => {
        "id, name, website, redirect_uris, scopes, client_id, client_secret_hash, created_at"
    };
}

macro_rules! session_columns {
    () => {
        "id, app_id, account_id, scopes, created_at, last_used_at, revoked_at"
    };
}

pub async fn create_app(db: &Db, app: &AppRow) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO oauth_apps (id, name, website, redirect_uris, scopes, client_id, \
             client_secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(app.id)
        .bind(&app.name)
        .bind(&app.website)
        .bind(&app.redirect_uris)
        .bind(&app.scopes)
        .bind(&app.client_id)
        .bind(&app.client_secret_hash)
        .bind(app.created_at)
        .execute(pool)
        .await?;
    });
    Ok(())
}

pub async fn find_app(db: &Db, id: i64) -> Result<Option<AppRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", app_columns!(), " FROM oauth_apps WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn find_app_by_client_id(db: &Db, client_id: &str) -> Result<Option<AppRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", app_columns!(), " FROM oauth_apps WHERE client_id = $1"
        ))
        .bind(client_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Start a session, with its first refresh token when there is one, in one
/// transaction.
pub async fn create_session(
    db: &Db,
    session: &NewSession,
    refresh: Option<&NewRefreshToken>,
) -> Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query(
            "INSERT INTO oauth_sessions (id, app_id, account_id, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(session.id)
        .bind(session.app_id)
        .bind(session.account_id)
        .bind(&session.scopes)
        .bind(session.created_at)
        .execute(&mut *conn)
        .await?;
        if let Some(refresh) = refresh {
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&refresh.token_hash)
            .bind(session.id)
            .bind(session.created_at)
            .bind(refresh.expires_at)
            .execute(&mut *conn)
            .await?;
        }
    });
    tx.commit().await
}

pub async fn find_session(db: &Db, id: i64) -> Result<Option<SessionRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", session_columns!(), " FROM oauth_sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Revoke one session (sign-out, `/oauth/revoke`). Returns whether it was
/// live.
pub async fn revoke_session(db: &Db, id: i64, now: UnixMillis) -> Result<bool> {
    let revoked = on_db!(db, pool => {
        sqlx::query(
            "UPDATE oauth_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(revoked == 1)
}

/// Revoke every live session of an account except `keep` (password change,
/// suspension), inside the caller's transaction. Returns how many were
/// revoked.
pub async fn revoke_account_sessions(
    tx: &mut Tx,
    account_id: i64,
    keep: Option<i64>,
    now: UnixMillis,
) -> Result<u64> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE oauth_sessions SET revoked_at = $1 \
             WHERE account_id = $2 AND revoked_at IS NULL AND id <> $3",
        )
        .bind(now)
        .bind(account_id)
        .bind(keep.unwrap_or(-1))
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }))
}

/// Exchange a refresh token for a new one, atomically. Only one of several
/// concurrent presentations of the same token can win; the others count as
/// reuse.
pub async fn rotate_refresh_token(
    db: &Db,
    presented_hash: &str,
    replacement: &NewRefreshToken,
    now: UnixMillis,
) -> Result<Rotation> {
    let mut tx = db.begin().await?;
    let outcome = on_tx!(&mut tx, conn => {
        let claimed: Option<(i64, i64)> = sqlx::query_as(
            "UPDATE refresh_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL \
             RETURNING session_id, expires_at",
        )
        .bind(now)
        .bind(presented_hash)
        .fetch_optional(&mut *conn)
        .await?;
        match claimed {
            Some((session_id, expires_at)) => {
                let session: Option<SessionRow> = sqlx::query_as(concat!(
                    "SELECT ", session_columns!(),
                    " FROM oauth_sessions WHERE id = $1 AND revoked_at IS NULL"
                ))
                .bind(session_id)
                .fetch_optional(&mut *conn)
                .await?;
                match session {
                    Some(session) if expires_at > now => {
                        sqlx::query(
                            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, \
                             expires_at) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(&replacement.token_hash)
                        .bind(session_id)
                        .bind(now)
                        .bind(replacement.expires_at)
                        .execute(&mut *conn)
                        .await?;
                        Rotation::Rotated(session)
                    }
                    _ => Rotation::Invalid,
                }
            }
            None => {
                let used: Option<i64> = sqlx::query_scalar(
                    "SELECT session_id FROM refresh_tokens WHERE token_hash = $1",
                )
                .bind(presented_hash)
                .fetch_optional(&mut *conn)
                .await?;
                match used {
                    Some(session_id) => {
                        sqlx::query(
                            "UPDATE oauth_sessions SET revoked_at = $1 \
                             WHERE id = $2 AND revoked_at IS NULL",
                        )
                        .bind(now)
                        .bind(session_id)
                        .execute(&mut *conn)
                        .await?;
                        Rotation::ReuseDetected
                    }
                    None => Rotation::Invalid,
                }
            }
        }
    });
    tx.commit().await?;
    Ok(outcome)
}

/// The session a refresh token belongs to, whatever its state (for
/// `/oauth/revoke`).
pub async fn session_of_refresh_token(db: &Db, token_hash: &str) -> Result<Option<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT session_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn create_code(db: &Db, code: &NewCode) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, app_id, account_id, redirect_uri, \
             scopes, code_challenge, code_challenge_method, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&code.code_hash)
        .bind(code.app_id)
        .bind(code.account_id)
        .bind(&code.redirect_uri)
        .bind(&code.scopes)
        .bind(&code.code_challenge)
        .bind(&code.code_challenge_method)
        .bind(code.created_at)
        .bind(code.expires_at)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Use an authorization code: returns it once, if it exists and has not
/// expired; never again.
pub async fn consume_code(db: &Db, code_hash: &str, now: UnixMillis) -> Result<Option<CodeRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "UPDATE authorization_codes SET used_at = $1 \
             WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING app_id, account_id, redirect_uri, scopes, code_challenge, \
             code_challenge_method",
        )
        .bind(now)
        .bind(code_hash)
        .fetch_optional(pool)
        .await?
    }))
}

/// A session as the per-request check needs it, with its user's standing.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionStatus {
    pub app_id: i64,
    pub account_id: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub approved: Option<bool>,
    pub disabled_at: Option<i64>,
    /// When a moderator suspended the user's account.
    pub suspended_at: Option<i64>,
}

impl SessionStatus {
    pub fn user_may_sign_in(&self) -> bool {
        self.approved == Some(true) && self.disabled_at.is_none() && self.suspended_at.is_none()
    }
}

/// One indexed lookup per authenticated request.
pub async fn session_status(db: &Db, session_id: i64) -> Result<Option<SessionStatus>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT s.app_id, s.account_id, s.revoked_at, s.last_used_at, u.approved, \
             u.disabled_at, a.suspended_at \
             FROM oauth_sessions s LEFT JOIN users u ON u.account_id = s.account_id \
             LEFT JOIN accounts a ON a.id = s.account_id \
             WHERE s.id = $1",
        )
        .bind(session_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Of `session_ids`, those that no longer give access: revoked, removed,
/// or belonging to a user who may no longer sign in (disabled, not
/// approved). For connections that outlive the request that opened them.
pub async fn ended_sessions(db: &Db, session_ids: &[i64]) -> Result<Vec<i64>> {
    if session_ids.is_empty() {
        return Ok(Vec::new());
    }
    let live: Vec<i64> = fetch_by_ids!(
        db,
        session_ids,
        query_scalar,
        "SELECT s.id FROM oauth_sessions s LEFT JOIN users u ON u.account_id = s.account_id \
         WHERE s.id",
        " AND s.revoked_at IS NULL \
         AND (s.account_id IS NULL OR (u.disabled_at IS NULL AND u.approved))",
    );
    let live: std::collections::HashSet<i64> = live.into_iter().collect();
    Ok(session_ids
        .iter()
        .copied()
        .filter(|id| !live.contains(id))
        .collect())
}

/// Note that a session was used (for "active users" figures).
pub async fn touch_session(db: &Db, session_id: i64, now: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query("UPDATE oauth_sessions SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(session_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}
