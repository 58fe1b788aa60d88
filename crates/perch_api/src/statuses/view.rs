//! Statuses as a viewer sees them: rows in, Status entities out, with a
//! fixed number of queries per page however many statuses it holds (the
//! reblogged originals, authors, mentions, tags, and the viewer's likes,
//! reblogs and bookmarks are each loaded once for the whole page).

use std::collections::{HashMap, HashSet};

use perch_db::accounts::{self, AccountRow};
use perch_db::favourites;
use perch_db::statuses::{self, StatusRow};

use crate::entities::CustomEmoji;
use crate::entities::media::{MediaAttachment, media_attachment};
use crate::entities::status::{Status, StatusParts, ViewerState, status_from_parts};
use crate::{ApiError, ApiState};

/// Render `rows` for `viewer` (0: nobody signed in), in order. A reblog
/// whose original is gone is left out.
pub async fn render(
    state: &ApiState,
    viewer: i64,
    rows: &[StatusRow],
) -> Result<Vec<Status>, ApiError> {
    let db = &state.db;
    let original_ids: Vec<i64> = rows.iter().filter_map(|r| r.reblog_of_id).collect();
    let originals = statuses::find_many(db, &original_ids).await?;
    let by_id: HashMap<i64, &StatusRow> = rows
        .iter()
        .chain(originals.iter())
        .map(|r| (r.id, r))
        .collect();
    let ids: Vec<i64> = by_id.keys().copied().collect();
    let author_ids: Vec<i64> = by_id
        .values()
        .map(|r| r.account_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let authors: HashMap<i64, AccountRow> = accounts::find_many(db, &author_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let mut mentions: HashMap<i64, Vec<AccountRow>> = HashMap::new();
    for (status_id, account) in statuses::mentions_of(db, &ids).await? {
        mentions.entry(status_id).or_default().push(account);
    }
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    for (status_id, name) in statuses::tags_of(db, &ids).await? {
        tags.entry(status_id).or_default().push(name);
    }
    let liked: HashSet<i64> = favourites::favourited_among(db, viewer, &ids)
        .await?
        .into_iter()
        .collect();
    let mut media: HashMap<i64, Vec<MediaAttachment>> = HashMap::new();
    for row in perch_db::media::for_statuses(db, &ids).await? {
        if let Some(status_id) = row.status_id {
            media
                .entry(status_id)
                .or_default()
                .push(media_attachment(&row));
        }
    }
    let reblogged: HashSet<i64> = statuses::reblogged_among(db, viewer, &ids)
        .await?
        .into_iter()
        .collect();
    let muted = perch_db::blocks::in_muted_conversations(db, viewer, &ids).await?;
    let bookmarked: HashSet<i64> = perch_db::bookmarks::bookmarked_among(db, viewer, &ids)
        .await?
        .into_iter()
        .collect();
    let emojis = emojis_of(db, &by_id, &authors).await?;
    // Only one's own statuses can be one's pins.
    let own: Vec<i64> = rows
        .iter()
        .filter(|r| r.account_id == viewer)
        .map(|r| r.id)
        .collect();
    let pinned: HashSet<i64> = perch_db::pins::pinned_among(db, viewer, &own)
        .await?
        .into_iter()
        .collect();
    let build = |row: &StatusRow, reblog: Option<Status>| -> Option<Status> {
        let author = authors.get(&row.account_id)?;
        let mut status = status_from_parts(
            StatusParts {
                row,
                author,
                mentions: mentions
                    .get(&row.id)
                    .map(|m| m.iter().collect())
                    .unwrap_or_default(),
                tags: tags
                    .get(&row.id)
                    .map(|t| t.iter().map(String::as_str).collect())
                    .unwrap_or_default(),
                viewer: ViewerState {
                    favourited: liked.contains(&row.id),
                    reblogged: reblogged.contains(&row.id),
                    muted: muted.contains(&row.id),
                    pinned: pinned.contains(&row.id),
                    bookmarked: bookmarked.contains(&row.id),
                },
                reblog,
                media: media.get(&row.id).cloned().unwrap_or_default(),
            },
            &state.config.public_url,
        );
        status.emojis = emojis.get(&row.id).cloned().unwrap_or_default();
        Some(status)
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let status = match row.reblog_of_id {
            Some(original_id) => {
                let Some(original) = by_id.get(&original_id).and_then(|o| build(o, None)) else {
                    continue;
                };
                build(row, Some(original))
            }
            None => build(row, None),
        };
        out.extend(status);
    }
    Ok(out)
}

/// The custom emoji each status's text uses, from its author's server's
/// (one query per server among the statuses).
async fn emojis_of(
    db: &perch_db::Db,
    statuses: &HashMap<i64, &StatusRow>,
    authors: &HashMap<i64, AccountRow>,
) -> Result<HashMap<i64, Vec<CustomEmoji>>, ApiError> {
    let mut by_server: HashMap<Option<&str>, Vec<(i64, Vec<String>)>> = HashMap::new();
    for row in statuses.values() {
        let codes = perch_db::emojis::shortcodes_in(
            &format!("{} {}", row.spoiler_text, row.content),
            perch_domain::emojis::MAX_PER_NOTE,
        );
        let Some(author) = authors.get(&row.account_id) else {
            continue;
        };
        if !codes.is_empty() {
            by_server
                .entry(author.domain.as_deref())
                .or_default()
                .push((row.id, codes));
        }
    }
    let mut found = HashMap::new();
    for (server, wanted) in by_server {
        let mut all: Vec<String> = wanted.iter().flat_map(|(_, c)| c.iter().cloned()).collect();
        all.sort();
        all.dedup();
        let known = perch_db::emojis::named(db, server, &all).await?;
        for (status_id, codes) in wanted {
            let list: Vec<CustomEmoji> = known
                .iter()
                .filter(|e| codes.contains(&e.shortcode))
                .map(custom_emoji)
                .collect();
            if !list.is_empty() {
                found.insert(status_id, list);
            }
        }
    }
    Ok(found)
}

/// Mastodon's CustomEmoji.
pub fn custom_emoji(row: &perch_db::emojis::EmojiRow) -> CustomEmoji {
    CustomEmoji {
        shortcode: row.shortcode.clone(),
        url: row.image_url.clone(),
        static_url: row.image_url.clone(),
        visible_in_picker: row.visible_in_picker,
        category: row.category.clone(),
    }
}

/// One status, rendered.
pub async fn render_one(
    state: &ApiState,
    viewer: i64,
    row: &StatusRow,
) -> Result<Status, ApiError> {
    render(state, viewer, std::slice::from_ref(row))
        .await?
        .pop()
        .ok_or_else(ApiError::not_found)
}
