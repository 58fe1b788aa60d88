//! Signing keys of JWT access tokens, shared by every process on the database.

use perch_core::time::UnixMillis;

use crate::{Db, Result};

#[derive(Clone, sqlx::FromRow)]
pub struct JwtKeyRow {
    pub kid: String,
    pub algorithm: String,
    /// Base64 of the private key (PKCS#8 DER).
    pub private_key: String,
    /// Base64 of the public key.
    pub public_key: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for JwtKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeyRow")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Every key, newest first. Retired keys still verify, never sign.
pub async fn all(db: &Db) -> Result<Vec<JwtKeyRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT kid, algorithm, private_key, public_key, created_at, retired_at \
             FROM jwt_keys ORDER BY created_at DESC, kid DESC",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Store `key` unless an active key already exists; two processes starting
/// at once end up sharing whichever key was stored first.
pub async fn insert_if_no_active_key(db: &Db, key: &JwtKeyRow) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO jwt_keys (kid, algorithm, private_key, public_key, created_at) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE NOT EXISTS (SELECT 1 FROM jwt_keys WHERE retired_at IS NULL)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.private_key)
        .bind(&key.public_key)
        .bind(key.created_at)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Retire every active key (rotation): the next start-up creates a new one.
pub async fn retire_active(db: &Db, now: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        sqlx::query("UPDATE jwt_keys SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}
