//! Answering notification requests (Mastodon 4.3): accepting one turns the
//! sender's filtered notifications into ordinary ones and lets their later
//! ones through; dismissing one deletes them. Several at once are one
//! change, all or nothing.

use perch_core::time::now_millis;
use perch_db::notification_requests;

use crate::Domain;
use crate::error::Result;

/// Accept `account_id`'s requests `ids` (others' and unknown ids are
/// skipped); how many were accepted.
pub async fn accept_requests(domain: &Domain, account_id: i64, ids: &[i64]) -> Result<usize> {
    let now = now_millis();
    let mut change = domain.begin().await?;
    let mut accepted = 0;
    for &id in ids {
        if notification_requests::accept(&mut change.tx, account_id, id, now).await? {
            accepted += 1;
        }
    }
    change.commit().await?;
    Ok(accepted)
}

/// Dismiss `account_id`'s requests `ids` with their filtered notifications
/// (others' and unknown ids are skipped); how many were dismissed.
pub async fn dismiss_requests(domain: &Domain, account_id: i64, ids: &[i64]) -> Result<usize> {
    let mut change = domain.begin().await?;
    let mut dismissed = 0;
    for &id in ids {
        if notification_requests::dismiss(&mut change.tx, account_id, id).await? {
            dismissed += 1;
        }
    }
    change.commit().await?;
    Ok(dismissed)
}
