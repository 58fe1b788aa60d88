//! Hashtags as accounts handle them: the one rule for what a tag name is,
//! and following a tag, which brings the public statuses carrying it into
//! the follower's home feed.

use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::tag_follows;

use crate::Domain;
use crate::error::{DomainError, Result};

/// The tag `name` names (with or without `#`), lower-cased, as it is
/// stored: letters, digits and `_`, at most 100, not digits alone.
pub fn tag_name(name: &str) -> Result<String> {
    let name = name.trim().trim_start_matches('#').to_lowercase();
    let valid = !name.is_empty()
        && name.chars().count() <= 100
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(name)
    } else {
        Err(DomainError::invalid("Validation failed: Tag is invalid"))
    }
}

/// `account` (local) follows the hashtag `name`; what it follows from now
/// on is public statuses carrying it, as they arrive. Following it again
/// changes nothing. Answers the tag's stored name.
pub async fn follow(domain: &Domain, account: &AccountRow, name: &str) -> Result<String> {
    if account.domain.is_some() {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    let name = tag_name(name)?;
    let now = now_millis();
    let mut change = domain.begin().await?;
    let tag_id = tag_follows::tag_id(&mut change.tx, domain.next_id(), &name, now).await?;
    tag_follows::follow(&mut change.tx, domain.next_id(), account.id, tag_id, now).await?;
    change.commit().await?;
    Ok(name)
}

/// `account` stops following the hashtag `name`, and the statuses only the
/// tag brought leave its home feed. Not following it is no error.
pub async fn unfollow(domain: &Domain, account: &AccountRow, name: &str) -> Result<String> {
    let name = tag_name(name)?;
    let Some(tag_id) = tag_follows::find_tag(&domain.db, &name).await? else {
        return Ok(name);
    };
    let mut change = domain.begin().await?;
    tag_follows::unfollow(&mut change.tx, account.id, tag_id).await?;
    change.commit().await?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::tag_name;

    #[test]
    fn tag_names_are_lower_cased_without_the_hash() {
        assert_eq!(tag_name("#Rust").ok().as_deref(), Some("rust"));
        assert_eq!(tag_name("café_2").ok().as_deref(), Some("café_2"));
    }

    #[test]
    fn what_is_not_a_tag_is_refused() {
        for bad in ["", "#", "2026", "two words", "dash-ed", &"a".repeat(101)] {
            assert!(tag_name(bad).is_err(), "{bad:?} was taken as a tag");
        }
    }
}
