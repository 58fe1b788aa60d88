//! What moderators do to accounts, as Mastodon's admin actions: mark an
//! account's media sensitive, disable a local user's login, silence,
//! suspend; and undo each. An action taken on a report resolves it.
//!
//! The effects live where the rules are read: a suspended account's
//! statuses are read by nobody (`visible_to!`) and leave every home feed,
//! its sessions end (so its sockets close), its activities are dropped at
//! the inbox before any key fetch, and nothing is delivered to it; a
//! silenced one stays out of public timelines and notifies only its
//! followers. A moderator acts only on accounts below its own role.

use perch_core::role::Role;
use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::moderation::{self, Mark};
use perch_db::{oauth, users};

use crate::Domain;
use crate::error::{DomainError, Result};

/// Mastodon's `type` of `POST /api/v1/admin/accounts/:id/action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing but resolving the report, if any.
    None,
    Sensitive,
    Disable,
    Silence,
    Suspend,
}

impl Action {
    pub fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "none" => Action::None,
            "sensitive" => Action::Sensitive,
            "disable" => Action::Disable,
            "silence" => Action::Silence,
            "suspend" => Action::Suspend,
            _ => return None,
        })
    }
}

/// The undoing of an [`Action`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undo {
    Unsensitive,
    Enable,
    Unsilence,
    Unsuspend,
}

/// Whether `moderator` (of role `role`) may act on `target`: not on
/// itself, and on a local user only when that user's role is below its
/// own.
async fn check(
    domain: &Domain,
    moderator: &AccountRow,
    role: Role,
    target: &AccountRow,
) -> Result<()> {
    if moderator.id == target.id || target.actor_type == "Application" {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    if target.domain.is_none() {
        let target_role = users::find_by_account_id(&domain.db, target.id)
            .await?
            .map_or(Role::User, |u| u.role());
        if target_role >= role {
            return Err(DomainError::forbidden("This action is not allowed"));
        }
    }
    Ok(())
}

/// `moderator` takes `action` on `target`, resolving `report_id` (a report
/// about `target`) when given.
pub async fn act(
    domain: &Domain,
    moderator: &AccountRow,
    role: Role,
    target: &AccountRow,
    action: Action,
    report_id: Option<i64>,
) -> Result<()> {
    check(domain, moderator, role, target).await?;
    if action == Action::Disable && target.domain.is_some() {
        return Err(DomainError::invalid(
            "Validation failed: only local accounts can be disabled",
        ));
    }
    if let Some(report_id) = report_id {
        let report = perch_db::reports::find(&domain.db, report_id).await?;
        if report.is_none_or(|r| r.target_account_id != target.id) {
            return Err(DomainError::NotFound);
        }
    }
    let now = now_millis();
    let mut change = domain.begin().await?;
    match action {
        Action::None => {}
        Action::Sensitive => {
            moderation::set_mark(&mut change.tx, target.id, Mark::Sensitized, Some(now)).await?;
        }
        Action::Silence => {
            moderation::set_mark(&mut change.tx, target.id, Mark::Silenced, Some(now)).await?;
        }
        Action::Disable => {
            moderation::set_disabled(&mut change.tx, target.id, Some(now)).await?;
            oauth::revoke_account_sessions(&mut change.tx, target.id, None, now).await?;
        }
        Action::Suspend => {
            moderation::set_mark(&mut change.tx, target.id, Mark::Suspended, Some(now)).await?;
            moderation::clear_from_feeds(&mut change.tx, target.id).await?;
            oauth::revoke_account_sessions(&mut change.tx, target.id, None, now).await?;
        }
    }
    change.commit().await?;
    if let Some(report_id) = report_id {
        perch_db::reports::set_resolved(&domain.db, report_id, Some(moderator.id), now).await?;
    }
    Ok(())
}

/// `moderator` undoes an action on `target`.
pub async fn undo(
    domain: &Domain,
    moderator: &AccountRow,
    role: Role,
    target: &AccountRow,
    undo: Undo,
) -> Result<()> {
    check(domain, moderator, role, target).await?;
    let mut change = domain.begin().await?;
    match undo {
        Undo::Unsensitive => {
            moderation::set_mark(&mut change.tx, target.id, Mark::Sensitized, None).await?;
        }
        Undo::Unsilence => {
            moderation::set_mark(&mut change.tx, target.id, Mark::Silenced, None).await?;
        }
        Undo::Unsuspend => {
            moderation::set_mark(&mut change.tx, target.id, Mark::Suspended, None).await?;
        }
        Undo::Enable => {
            moderation::set_disabled(&mut change.tx, target.id, None).await?;
        }
    }
    change.commit().await
}

/// Let a sign-up waiting for approval sign in. Refused (forbidden) when
/// the account is already approved, and not found when it is no local
/// user.
pub async fn approve(domain: &Domain, account_id: i64) -> Result<()> {
    let user = users::find_by_account_id(&domain.db, account_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    if user.approved {
        return Err(DomainError::forbidden("This account is already approved"));
    }
    users::approve(&domain.db, account_id, now_millis()).await?;
    Ok(())
}

/// Remove a sign-up waiting for approval, with its account. Refused
/// (forbidden) unless the account is a local one still waiting.
pub async fn reject(domain: &Domain, account_id: i64) -> Result<()> {
    if !moderation::delete_pending(&domain.db, account_id).await? {
        return Err(DomainError::forbidden(
            "This account is not waiting for approval",
        ));
    }
    Ok(())
}
