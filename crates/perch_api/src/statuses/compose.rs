//! A status's text as written (plain text) turned into what is stored: safe
//! HTML with links, resolved mentions and hashtags, the accounts it
//! mentions, and its tags.

use perch_db::accounts::AccountRow;

use crate::{ApiError, ApiState};

/// What a status's text becomes.
pub struct Composed {
    pub html: String,
    /// Resolved mentioned accounts, in order of first appearance.
    pub mentions: Vec<AccountRow>,
    /// Lower-cased tag names.
    pub tags: Vec<String>,
}

/// Characters of `text` toward the length limit.
pub fn length(text: &str) -> usize {
    text.chars().count()
}

pub async fn compose(_state: &ApiState, text: &str) -> Result<Composed, ApiError> {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    Ok(Composed {
        html: format!("<p>{escaped}</p>"),
        mentions: Vec::new(),
        tags: Vec::new(),
    })
}
