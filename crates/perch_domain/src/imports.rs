//! Importing a list of follows, mutes or blocks, as Mastodon's CSV import
//! does (the file is read, and its accounts found, by the caller): each
//! account of the list is followed, muted or blocked by the rules of a
//! single follow, mute or block; one that cannot be (a block between the
//! two, one's own account) is reported and the rest go on. To overwrite is
//! also to end those of the kind that the list leaves out.

use perch_db::accounts::AccountRow;
use perch_db::transfer::{self, Relations};

use crate::Domain;
use crate::blocks::{self, MuteSettings};
use crate::error::{DomainError, Result};
use crate::follows;

/// The most accounts one import names, and the most one export lists.
pub const MAX_ROWS: usize = 5000;

/// Whether the list adds to what is there, or replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Merge,
    Overwrite,
}

/// One account of an imported list.
#[derive(Clone, Debug)]
pub struct Entry {
    pub target: AccountRow,
    /// Mutes: keep the account's notifications back too.
    pub hide_notifications: bool,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Accounts of the list now followed (or asked), muted or blocked.
    pub applied: usize,
    /// Relations ended because the list left them out (overwrite only).
    pub removed: usize,
    /// Accounts of the list that could not be, by actor id, with why.
    pub refused: Vec<(String, String)>,
}

/// `account` (local) follows, mutes or blocks each account of `entries`.
pub async fn import(
    domain: &Domain,
    account: &AccountRow,
    relations: Relations,
    mode: Mode,
    entries: &[Entry],
) -> Result<Imported> {
    if account.domain.is_some() {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    let mut done = Imported::default();
    for entry in entries.iter().take(MAX_ROWS) {
        let target = &entry.target;
        let result = match relations {
            Relations::Following => follows::follow(domain, account, target, None).await,
            Relations::Muting => {
                let settings = MuteSettings {
                    notifications: entry.hide_notifications,
                    expires_at: None,
                };
                blocks::mute(domain, account, target, settings).await
            }
            Relations::Blocking => blocks::block(domain, account, target, None).await,
        };
        match result {
            Ok(()) => done.applied += 1,
            Err(DomainError::Forbidden(why) | DomainError::Invalid(why)) => {
                done.refused.push((target.uri.clone(), why));
            }
            Err(DomainError::NotFound) => {
                done.refused
                    .push((target.uri.clone(), "not found".to_owned()));
            }
            Err(error) => return Err(error),
        }
    }
    if mode == Mode::Overwrite {
        let listed: std::collections::HashSet<i64> =
            entries.iter().map(|entry| entry.target.id).collect();
        let current = transfer::related(&domain.db, account.id, relations, MAX_ROWS as i64).await?;
        for related in current.iter().filter(|r| !listed.contains(&r.account_id)) {
            let Some(target) = perch_db::accounts::find_by_id(
                &domain.db,
                perch_core::id::Id::from_i64(related.account_id),
            )
            .await?
            else {
                continue;
            };
            match relations {
                Relations::Following => follows::unfollow(domain, account, &target, None).await?,
                Relations::Muting => blocks::unmute(domain, account, &target).await?,
                Relations::Blocking => blocks::unblock(domain, account, &target, None).await?,
            }
            done.removed += 1;
        }
    }
    Ok(done)
}
