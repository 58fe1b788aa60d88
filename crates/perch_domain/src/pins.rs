//! Pinned statuses: a local account pins up to [`MAX_PINS`] of its own
//! statuses (not reblogs, not direct messages), and its followers' servers
//! hear of each pin and unpin (`Add`/`Remove` on its `featured`
//! collection); a remote account's pins are what its collection lists.

use perch_core::outbound::{Outbound, PinNote};
use perch_core::status::Visibility;
use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::pins;
use perch_db::statuses::StatusRow;

use crate::describe::actor_ref;
use crate::error::{DomainError, Result};
use crate::{Domain, Received};

/// Statuses one account may pin, as Mastodon allows.
pub const MAX_PINS: i64 = 5;

fn pin_note(domain: &Domain, account: &AccountRow, status: &StatusRow) -> PinNote {
    PinNote {
        uri: domain.layout.activity_uri(domain.next_id()),
        actor: actor_ref(account),
        status_uri: status.uri.clone(),
        featured_url: crate::urls::featured_of(&account.uri),
    }
}

/// `account` (local) pins `status`, its own.
pub async fn pin(domain: &Domain, account: &AccountRow, status: &StatusRow) -> Result<()> {
    if status.account_id != account.id {
        return Err(DomainError::invalid(
            "Validation failed: Someone else's post cannot be pinned",
        ));
    }
    if status.reblog_of_id.is_some() {
        return Err(DomainError::invalid(
            "Validation failed: A boost cannot be pinned",
        ));
    }
    if Visibility::from_i16(status.visibility) == Visibility::Direct {
        return Err(DomainError::invalid(
            "Validation failed: Posts that are only visible to mentioned users cannot be pinned",
        ));
    }
    let mut change = domain.begin().await?;
    if pins::count(&mut change.tx, account.id).await? >= MAX_PINS {
        return Err(DomainError::invalid(
            "Validation failed: You have already pinned the maximum number of posts",
        ));
    }
    if pins::pin(&mut change.tx, account.id, status.id, now_millis()).await?
        && account.domain.is_none()
    {
        change
            .publish(Outbound::Pin(pin_note(domain, account, status)))
            .await?;
    }
    change.commit().await
}

/// `account` (local) unpins `status`; nothing happens when it was not
/// pinned.
pub async fn unpin(domain: &Domain, account: &AccountRow, status: &StatusRow) -> Result<()> {
    let mut change = domain.begin().await?;
    if pins::unpin(&mut change.tx, account.id, status.id).await? && account.domain.is_none() {
        change
            .publish(Outbound::Unpin(pin_note(domain, account, status)))
            .await?;
    }
    change.commit().await
}

/// A remote account's `Add` (`pinned`) or `Remove` of its own status on
/// its `featured` collection.
pub async fn received(
    domain: &Domain,
    account: &AccountRow,
    status: &StatusRow,
    pinned: bool,
    received: &Received,
) -> Result<()> {
    if account.domain.is_none() || status.account_id != account.id {
        return Err(DomainError::forbidden("only the author pins a status"));
    }
    let mut change = domain.begin().await?;
    if !change.first_time(Some(received)).await? {
        return Ok(());
    }
    if pinned {
        pins::pin(&mut change.tx, account.id, status.id, now_millis()).await?;
    } else {
        pins::unpin(&mut change.tx, account.id, status.id).await?;
    }
    change.commit().await
}

/// A remote account's `featured` collection, as last read: its pins become
/// `status_ids` (its own statuses, newest first), at most [`MAX_PINS`] × 4.
pub async fn replace_remote(
    domain: &Domain,
    account: &AccountRow,
    status_ids: &[i64],
) -> Result<()> {
    if account.domain.is_none() {
        return Err(DomainError::forbidden("a local account's pins are its own"));
    }
    let status_ids = &status_ids[..status_ids.len().min(MAX_PINS as usize * 4)];
    let mut change = domain.begin().await?;
    pins::replace(&mut change.tx, account.id, status_ids, now_millis()).await?;
    change.commit().await
}
