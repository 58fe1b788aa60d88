//! Custom emoji: an admin adds this server's own (by the command line),
//! and the emoji other servers' notes name are remembered by shortcode and
//! server, so that statuses show them (`emojis` in the client API).

use perch_core::time::now_millis;
use perch_db::emojis::{self, EmojiRow, is_shortcode};

use crate::Domain;
use crate::error::{DomainError, Result};

/// Emoji remembered from one note; the rest are dropped.
pub const MAX_PER_NOTE: usize = 50;

/// An `Emoji` tag as read from another server's note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteEmoji {
    pub shortcode: String,
    /// Checked as a web URL by the federation layer.
    pub image_url: String,
    pub uri: Option<String>,
}

/// Add (or replace the image of) one of this server's emoji.
pub async fn add_local(
    domain: &Domain,
    shortcode: &str,
    image_url: &str,
    category: Option<&str>,
) -> Result<EmojiRow> {
    if !is_shortcode(shortcode) {
        return Err(DomainError::invalid(
            "Validation failed: a shortcode is 2 to 64 letters, digits or underscores",
        ));
    }
    Ok(emojis::upsert_local(
        &domain.db,
        domain.next_id(),
        shortcode,
        image_url,
        category.filter(|c| !c.is_empty()),
        now_millis(),
    )
    .await?)
}

/// Remove one of this server's emoji; its row, when there was one (its
/// picture is the caller's to remove).
pub async fn remove_local(domain: &Domain, shortcode: &str) -> Result<Option<EmojiRow>> {
    Ok(emojis::remove_local(&domain.db, shortcode).await?)
}

/// Remember the emoji a note of `host` names.
pub async fn remember_remote(domain: &Domain, host: &str, found: &[RemoteEmoji]) -> Result<()> {
    let found: Vec<&RemoteEmoji> = found
        .iter()
        .filter(|e| is_shortcode(&e.shortcode))
        .take(MAX_PER_NOTE)
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let now = now_millis();
    let mut change = domain.begin().await?;
    for emoji in found {
        emojis::upsert_remote(
            &mut change.tx,
            domain.next_id(),
            &emoji.shortcode,
            host,
            &emoji.image_url,
            emoji.uri.as_deref(),
            now,
        )
        .await?;
    }
    change.commit().await
}
