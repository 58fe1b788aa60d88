//! Lists: a local account's groups of the accounts it follows, each with a
//! timeline of their statuses (fanned out with the home feed, see
//! `perch_db::lists`). A list holds only accounts its owner follows, so
//! members are checked against the follows when they are added, in the
//! same transaction, and leave when the follow ends.

use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::lists::{self, ListRow};

use crate::Domain;
use crate::error::{DomainError, Result};

/// Lists one account may have, as Mastodon allows.
pub const MAX_LISTS: i64 = 50;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 256;
/// The replies policies, Mastodon's names: which replies of the members
/// to someone else the list shows (those to an account the owner
/// follows, to another member, or none). Replies to oneself and to the
/// list's owner always show.
pub const REPLIES_POLICIES: [&str; 3] = ["followed", "list", "none"];

/// What a new list is, or what changes of one (`None`: unchanged).
#[derive(Clone, Debug, Default)]
pub struct ListChanges {
    pub title: Option<String>,
    pub replies_policy: Option<String>,
    pub exclusive: Option<bool>,
}

impl ListChanges {
    /// `list` with these changes, once checked.
    fn apply(self, mut list: ListRow) -> Result<ListRow> {
        if let Some(title) = self.title {
            let title = title.trim();
            if title.is_empty() {
                return Err(DomainError::invalid(
                    "Validation failed: Title can't be blank",
                ));
            }
            if title.chars().count() > MAX_TITLE_CHARS {
                return Err(DomainError::invalid(format!(
                    "Validation failed: Title is too long (maximum is {MAX_TITLE_CHARS} characters)"
                )));
            }
            title.clone_into(&mut list.title);
        }
        if let Some(policy) = self.replies_policy {
            if !REPLIES_POLICIES.contains(&policy.as_str()) {
                return Err(DomainError::invalid(format!(
                    "Validation failed: '{policy}' is not a valid replies_policy"
                )));
            }
            list.replies_policy = policy;
        }
        if let Some(exclusive) = self.exclusive {
            list.exclusive = exclusive;
        }
        Ok(list)
    }
}

/// `owner` (local) makes a list; a title is required.
pub async fn create(domain: &Domain, owner: &AccountRow, new: ListChanges) -> Result<ListRow> {
    if new.title.is_none() {
        return Err(DomainError::invalid(
            "Validation failed: Title can't be blank",
        ));
    }
    let list = new.apply(ListRow {
        id: domain.next_id(),
        account_id: owner.id,
        title: String::new(),
        replies_policy: "list".to_owned(),
        exclusive: false,
        created_at: now_millis(),
    })?;
    let mut change = domain.begin().await?;
    if lists::count(&mut change.tx, owner.id).await? >= MAX_LISTS {
        return Err(DomainError::invalid(
            "Validation failed: You have reached the maximum number of lists",
        ));
    }
    lists::insert(&mut change.tx, &list).await?;
    change.commit().await?;
    Ok(list)
}

/// Change a list's title, replies policy or exclusivity.
pub async fn update(domain: &Domain, list: &ListRow, changes: ListChanges) -> Result<ListRow> {
    let updated = changes.apply(list.clone())?;
    let mut change = domain.begin().await?;
    lists::update(&mut change.tx, &updated).await?;
    change.commit().await?;
    Ok(updated)
}

/// Delete a list, with its members and timeline.
pub async fn delete(domain: &Domain, list: &ListRow) -> Result<()> {
    lists::delete(&domain.db, list.id, list.account_id).await?;
    Ok(())
}

/// Add `accounts` to `list`, all or none: each must be followed by the
/// list's owner. Those already in it stay as they are.
pub async fn add_accounts(domain: &Domain, list: &ListRow, accounts: &[AccountRow]) -> Result<()> {
    let mut change = domain.begin().await?;
    for account in accounts {
        if !perch_db::follows::hold_follow(&mut change.tx, list.account_id, account.id).await? {
            return Err(DomainError::invalid(
                "Validation failed: Account follow relationship missing",
            ));
        }
        lists::add_member(&mut change.tx, domain.next_id(), list, account.id).await?;
    }
    change.commit().await
}

/// Take `accounts` out of `list`; those not in it are ignored.
pub async fn remove_accounts(domain: &Domain, list: &ListRow, accounts: &[i64]) -> Result<()> {
    let mut change = domain.begin().await?;
    for &account in accounts {
        lists::remove_member(&mut change.tx, list.id, account).await?;
    }
    change.commit().await
}
