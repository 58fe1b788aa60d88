//! Announcements: the staff publish and delete them (`perch announcement`),
//! local users react to them with an emoji, a Unicode one or one of this
//! server's custom ones, at most [`MAX_REACTIONS`] different ones each, as
//! Mastodon allows. Every change is told live to the users' `user`
//! streams.

use perch_core::content;
use perch_core::time::{UnixMillis, now_millis};
use perch_db::accounts::AccountRow;
use perch_db::announcements::{self, AnnouncementRow};
use perch_db::live::LiveEvent;

use crate::Domain;
use crate::error::{DomainError, Result};

/// Different reactions one announcement may have.
pub const MAX_REACTIONS: i64 = 8;

/// An announcement to publish.
pub struct NewAnnouncement<'a> {
    /// Plain text: links and hashtags become HTML.
    pub text: &'a str,
    pub starts_at: Option<UnixMillis>,
    pub ends_at: Option<UnixMillis>,
    pub all_day: bool,
}

/// Publish an announcement now.
pub async fn add(domain: &Domain, new: NewAnnouncement<'_>) -> Result<AnnouncementRow> {
    let text = new.text.trim();
    if text.is_empty() {
        return Err(DomainError::invalid(
            "Validation failed: Text can't be blank",
        ));
    }
    if let (Some(starts), Some(ends)) = (new.starts_at, new.ends_at) {
        if ends < starts {
            return Err(DomainError::invalid(
                "Validation failed: Ends at must be after the start",
            ));
        }
    }
    let parsed = content::parse(text);
    let html = content::render(&parsed, |_| None, |tag| domain.layout.tag_url(tag));
    let now = now_millis();
    let row = AnnouncementRow {
        id: domain.next_id(),
        text: text.to_owned(),
        content: html,
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        all_day: new.all_day,
        published_at: now,
        updated_at: now,
    };
    let mut change = domain.begin().await?;
    announcements::insert(&mut change.tx, &row).await?;
    change.live([LiveEvent::Announcement { id: row.id }]);
    change.commit().await?;
    Ok(row)
}

/// Delete announcement `id`; false when there is none.
pub async fn remove(domain: &Domain, id: i64) -> Result<bool> {
    let mut change = domain.begin().await?;
    if !announcements::delete(&mut change.tx, id).await? {
        return Ok(false);
    }
    change.live([LiveEvent::AnnouncementDeleted { id }]);
    change.commit().await?;
    Ok(true)
}

/// Whether `name` may react: a Unicode emoji, or a local custom emoji's
/// shortcode.
async fn valid_name(domain: &Domain, name: &str) -> Result<bool> {
    if perch_core::emoji::is_unicode_emoji(name) {
        return Ok(true);
    }
    if !perch_db::emojis::is_shortcode(name) {
        return Ok(false);
    }
    Ok(
        !perch_db::emojis::named(&domain.db, None, &[name.to_owned()])
            .await?
            .is_empty(),
    )
}

/// Local `account` reacts to current announcement `id` with `name`
/// (again changes nothing).
pub async fn react(domain: &Domain, account: &AccountRow, id: i64, name: &str) -> Result<()> {
    let now = now_millis();
    if account.domain.is_some()
        || announcements::find_current(&domain.db, id, now)
            .await?
            .is_none()
    {
        return Err(DomainError::NotFound);
    }
    if !valid_name(domain, name).await? {
        return Err(DomainError::invalid(
            "Validation failed: Name is not a recognized emoji",
        ));
    }
    let mut change = domain.begin().await?;
    let known = announcements::find_name(&mut change.tx, id, name).await?;
    let in_use = announcements::distinct_reactions(&mut change.tx, id).await?;
    let name_id = match known {
        Some(name_id) => name_id,
        None => {
            let new_id = change.next_id();
            announcements::name_id(&mut change.tx, new_id, id, name).await?
        }
    };
    // A name that is counted already does not add to the different ones.
    let counted = match known {
        Some(_) => announcements::reaction_exists(&mut change.tx, name_id).await?,
        None => false,
    };
    if !counted && in_use >= MAX_REACTIONS {
        return Err(DomainError::invalid(
            "Validation failed: You have already reached the maximum number of different reactions",
        ));
    }
    if announcements::react(&mut change.tx, name_id, account.id, now).await? {
        change.live([LiveEvent::AnnouncementReaction {
            announcement_id: id,
            name_id,
        }]);
    }
    change.commit().await
}

/// Local `account` takes back its reaction `name` to announcement `id`.
pub async fn unreact(domain: &Domain, account: &AccountRow, id: i64, name: &str) -> Result<()> {
    if announcements::find_current(&domain.db, id, now_millis())
        .await?
        .is_none()
    {
        return Err(DomainError::NotFound);
    }
    let mut change = domain.begin().await?;
    let Some(name_id) = announcements::find_name(&mut change.tx, id, name).await? else {
        return Err(DomainError::NotFound);
    };
    if !announcements::unreact(&mut change.tx, name_id, account.id).await? {
        return Err(DomainError::NotFound);
    }
    change.live([LiveEvent::AnnouncementReaction {
        announcement_id: id,
        name_id,
    }]);
    change.commit().await
}
