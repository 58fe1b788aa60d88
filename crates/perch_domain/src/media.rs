//! Uploaded media: the purge of uploads no status used in time.

use std::future::Future;

use perch_core::time::UnixMillis;
use perch_db::media;

use crate::Domain;
use crate::error::Result;

/// Uploads left unattached this long are deleted, with their files.
pub const UNATTACHED_TTL_MILLIS: i64 = 24 * 3600 * 1000;

/// Where uploaded files live: removing one by its public URL. Best effort:
/// a file left behind wastes space only.
pub trait MediaFiles: Sync {
    fn remove(&self, url: &str) -> impl Future<Output = ()> + Send;
}

/// Delete uploads no status used within [`UNATTACHED_TTL_MILLIS`] of `now`,
/// rows and files; returns how many.
pub async fn purge_unattached(
    domain: &Domain,
    files: &impl MediaFiles,
    now: UnixMillis,
) -> Result<usize> {
    let stale = media::unattached_before(&domain.db, now - UNATTACHED_TTL_MILLIS).await?;
    for row in &stale {
        media::delete(&domain.db, row.id).await?;
        files.remove(&row.url).await;
        if let Some(preview) = &row.preview_url {
            files.remove(preview).await;
        }
    }
    Ok(stale.len())
}
