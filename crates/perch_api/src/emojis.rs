//! Custom emoji as clients see them. A status or an account shows the
//! emoji of its server whose `:shortcode:` its text holds (a status's
//! spoiler and content; an account's name and note), looked up once per
//! server for a whole page, and only when some text holds a shortcode.

use std::collections::HashMap;

use perch_db::accounts::AccountRow;
use perch_db::emojis::EmojiRow;

use crate::entities::CustomEmoji;
use crate::entities::account::{Account, account_from_row};
use crate::{ApiError, ApiState};

/// The most emoji one text shows.
const MAX_PER_TEXT: usize = perch_domain::emojis::MAX_PER_NOTE;

/// Mastodon's CustomEmoji.
pub fn custom_emoji(row: &EmojiRow) -> CustomEmoji {
    CustomEmoji {
        shortcode: row.shortcode.clone(),
        url: row.image_url.clone(),
        static_url: row.image_url.clone(),
        visible_in_picker: row.visible_in_picker,
        category: row.category.clone(),
    }
}

/// For each `(key, server, text)`, the emoji of `server` (`None`: this
/// one) that `text` names; keys whose text names none are absent.
pub async fn named_in(
    db: &perch_db::Db,
    texts: Vec<(i64, Option<&str>, String)>,
) -> Result<HashMap<i64, Vec<CustomEmoji>>, ApiError> {
    let mut by_server: HashMap<Option<&str>, Vec<(i64, Vec<String>)>> = HashMap::new();
    for (key, server, text) in texts {
        let codes = perch_db::emojis::shortcodes_in(&text, MAX_PER_TEXT);
        if !codes.is_empty() {
            by_server.entry(server).or_default().push((key, codes));
        }
    }
    let mut found = HashMap::new();
    for (server, wanted) in by_server {
        let mut all: Vec<String> = wanted.iter().flat_map(|(_, c)| c.iter().cloned()).collect();
        all.sort();
        all.dedup();
        let known = perch_db::emojis::named(db, server, &all).await?;
        for (key, codes) in wanted {
            let list: Vec<CustomEmoji> = known
                .iter()
                .filter(|e| codes.contains(&e.shortcode))
                .map(custom_emoji)
                .collect();
            if !list.is_empty() {
                found.insert(key, list);
            }
        }
    }
    Ok(found)
}

/// The emoji of each account's name and note, by account id.
pub async fn of_accounts(
    db: &perch_db::Db,
    rows: &[&AccountRow],
) -> Result<HashMap<i64, Vec<CustomEmoji>>, ApiError> {
    let texts = rows
        .iter()
        .map(|row| {
            (
                row.id,
                row.domain.as_deref(),
                format!("{} {}", row.display_name, row.note),
            )
        })
        .collect();
    named_in(db, texts).await
}

/// Accounts, rendered with their emoji, in order.
pub async fn accounts(state: &ApiState, rows: &[&AccountRow]) -> Result<Vec<Account>, ApiError> {
    let emojis = of_accounts(&state.db, rows).await?;
    Ok(rows
        .iter()
        .map(|row| {
            with_emojis(
                account_from_row(row, &state.config.public_url),
                row,
                &emojis,
            )
        })
        .collect())
}

/// One account, rendered with its emoji.
pub async fn account(state: &ApiState, row: &AccountRow) -> Result<Account, ApiError> {
    let emojis = of_accounts(&state.db, &[row]).await?;
    Ok(with_emojis(
        account_from_row(row, &state.config.public_url),
        row,
        &emojis,
    ))
}

/// `account` (of `row`) given its emoji from a lookup of [`of_accounts`].
pub fn with_emojis(
    mut account: Account,
    row: &AccountRow,
    emojis: &HashMap<i64, Vec<CustomEmoji>>,
) -> Account {
    if let Some(list) = emojis.get(&row.id) {
        account.emojis = list.clone();
    }
    account
}
