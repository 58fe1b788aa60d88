//! The HTTP signature scheme each server accepted last: `cavage`
//! (draft-cavage-http-signatures) or `rfc9421` (HTTP Message Signatures).
//! The names are perch_apub's; this module only keeps them.

use perch_core::time::UnixMillis;

use crate::{Db, Result};

/// What was remembered of `host` (host[:port]), if anything.
pub async fn find(db: &Db, host: &str) -> Result<Option<String>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT scheme FROM signature_schemes WHERE host = $1")
            .bind(host)
            .fetch_optional(pool)
            .await?
    }))
}

/// Remember that `host` accepted `scheme`, replacing what it accepted
/// before.
pub async fn remember(db: &Db, host: &str, scheme: &str, now: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO signature_schemes (host, scheme, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (host) DO UPDATE SET scheme = excluded.scheme, \
             updated_at = excluded.updated_at",
        )
        .bind(host)
        .bind(scheme)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}
