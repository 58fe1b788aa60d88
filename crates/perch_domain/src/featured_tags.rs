//! Featuring hashtags on one's profile, as Mastodon allows: at most
//! [`MAX_FEATURED_TAGS`], each a valid hashtag name.

use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::featured_tags;

use crate::Domain;
use crate::error::{DomainError, Result};

/// The most hashtags one account features (`/api/v2/instance` says so).
pub const MAX_FEATURED_TAGS: usize = 10;

/// `account` (local) features `name` (with or without `#`); the name kept.
pub async fn feature(domain: &Domain, account: &AccountRow, name: &str) -> Result<String> {
    if account.domain.is_some() {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    let name = crate::tags::tag_name(name)?;
    let current = featured_tags::of_account(&domain.db, account.id).await?;
    if current.iter().any(|tag| tag.name == name) {
        return Err(DomainError::invalid(
            "Validation failed: Tag has already been taken",
        ));
    }
    if current.len() >= MAX_FEATURED_TAGS {
        return Err(DomainError::invalid(format!(
            "Validation failed: You can only feature up to {MAX_FEATURED_TAGS} hashtags"
        )));
    }
    featured_tags::add(
        &domain.db,
        domain.next_id(),
        account.id,
        &name,
        now_millis(),
    )
    .await?;
    Ok(name)
}
