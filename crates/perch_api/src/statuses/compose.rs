//! A status's text as written (plain text) turned into what is stored: safe
//! HTML with links, resolved mentions and hashtags, the accounts it
//! mentions, and its tags.
//!
//! Mentions of this server's accounts are looked up here; remote ones are
//! resolved through WebFinger when not known yet (before any transaction
//! opens). A mention that resolves to nobody stays text.

use std::collections::HashMap;

use perch_apub::resolve;
use perch_core::content::{self, MentionLink, MentionRef};
use perch_db::accounts::{self, AccountRow};

use crate::{ApiError, ApiState};

/// What a status's text becomes.
pub struct Composed {
    pub html: String,
    /// Resolved mentioned accounts, in order of first appearance.
    pub mentions: Vec<AccountRow>,
    /// Lower-cased tag names.
    pub tags: Vec<String>,
}

/// Characters of `text` toward the length limit, as Mastodon counts them.
pub fn length(text: &str) -> usize {
    content::length(text)
}

/// Mentions a status may resolve: more are left as text.
const MAX_MENTIONS: usize = 20;

async fn resolve_mention(
    state: &ApiState,
    mention: &MentionRef,
) -> Result<Option<AccountRow>, ApiError> {
    let local = match &mention.domain {
        None => true,
        Some(domain) => domain.eq_ignore_ascii_case(&state.config.domain),
    };
    if local {
        return Ok(
            accounts::find_local_by_username(&state.db, &mention.username)
                .await?
                .filter(|a| a.actor_type != "Application"),
        );
    }
    match resolve::actor_by_acct(&state.federation, &mention.acct()).await {
        Ok((account, _)) => Ok(Some(account)),
        Err(resolve::ResolveError::Db(error)) => Err(error.into()),
        Err(error) => {
            tracing::info!(mention = %mention.acct(), %error, "a mention did not resolve");
            Ok(None)
        }
    }
}

pub async fn compose(state: &ApiState, text: &str) -> Result<Composed, ApiError> {
    let parsed = content::parse(text);
    let mut found: HashMap<String, AccountRow> = HashMap::new();
    let mut mentions = Vec::new();
    for mention in parsed.mentions.iter().take(MAX_MENTIONS) {
        if let Some(account) = resolve_mention(state, mention).await? {
            if !mentions.iter().any(|m: &AccountRow| m.id == account.id) {
                mentions.push(account.clone());
            }
            found.insert(mention.acct().to_lowercase(), account);
        }
    }
    let layout = &state.federation.layout;
    let html = content::render(
        &parsed,
        |mention| {
            found
                .get(&mention.acct().to_lowercase())
                .map(|a| MentionLink {
                    url: a.url.clone().unwrap_or_else(|| a.uri.clone()),
                    username: a.username.clone(),
                })
        },
        |tag| layout.tag_url(tag),
    );
    Ok(Composed {
        html,
        mentions,
        tags: parsed.tags,
    })
}
