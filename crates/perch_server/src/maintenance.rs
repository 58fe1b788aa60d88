//! Housekeeping that runs in every process: dropping what is kept only for
//! a while. Each task is idempotent, so several processes running it at
//! once do no harm.

use std::time::Duration;

use perch_core::time::now_millis;
use perch_db::Db;
use tokio_util::sync::CancellationToken;

/// How often housekeeping runs.
const EVERY: Duration = Duration::from_secs(3600);

/// Run until `stop`: at start, then every hour.
pub async fn worker(db: Db, api: perch_api::ApiState, stop: CancellationToken) {
    loop {
        let files = perch_api::media_files::StoredFiles(&api.config);
        match perch_domain::media::purge_unattached(&api.domain, &files, now_millis()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "unattached uploads deleted"),
            Err(error) => tracing::warn!(%error, "deleting unattached uploads failed"),
        }
        match perch_db::user_events::purge(&db, now_millis()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired chat events purged"),
            Err(error) => tracing::warn!(%error, "purging expired chat events failed"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
