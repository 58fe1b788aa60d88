//! Statuses as a viewer sees them: rows in, Status entities out, with a
//! fixed number of queries per page however many statuses it holds (the
//! reblogged originals, authors, mentions, tags, polls, and the viewer's
//! likes, reblogs, bookmarks and votes are each loaded once for the whole
//! page), and the viewer's filters applied (read once for the page too).

use std::collections::{HashMap, HashSet};

use perch_db::accounts::{self, AccountRow};
use perch_db::favourites;
use perch_db::polls::{self, OptionRow, PollRow};
use perch_db::statuses::{self, StatusRow};

use crate::entities::media::{MediaAttachment, media_attachment};
use crate::entities::poll::{Poll, PollViewer, poll_entity};
use crate::entities::status::{Status, StatusParts, ViewerState, status_from_parts};
use crate::statuses::filtering::{self, FilterScope};
use crate::{ApiError, ApiState};

/// Render `rows` for `viewer` (0: nobody signed in), in order, marked by
/// every filter of the viewer's that matches (none hides: no context is
/// the viewer's). A reblog whose original is gone is left out.
pub async fn render(
    state: &ApiState,
    viewer: i64,
    rows: &[StatusRow],
) -> Result<Vec<Status>, ApiError> {
    render_in(state, viewer, rows, FilterScope::ANYWHERE).await
}

/// [`render`] with the viewer's filters of `scope`: those of its context
/// mark the statuses they match, and leave out those a `hide` filter
/// matches where the scope says so.
pub async fn render_in(
    state: &ApiState,
    viewer: i64,
    rows: &[StatusRow],
    scope: FilterScope,
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
    let emojis = crate::emojis::named_in(
        db,
        by_id
            .values()
            .filter_map(|row| {
                let author = authors.get(&row.account_id)?;
                Some((
                    row.id,
                    author.domain.as_deref(),
                    format!("{} {}", row.spoiler_text, row.content),
                ))
            })
            .collect(),
    )
    .await?;
    let account_emojis =
        crate::emojis::of_accounts(db, &authors.values().collect::<Vec<_>>()).await?;
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
    let polls = PagePolls::load(db, viewer, &ids).await?;
    let now = perch_core::time::now_millis();
    let filters = if viewer == 0 || rows.is_empty() {
        Vec::new()
    } else {
        perch_db::filters::of_account(db, viewer, Some(now)).await?
    };
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
                poll: polls.render(row, viewer, now),
            },
            &state.config.public_url,
        );
        status.emojis = emojis.get(&row.id).cloned().unwrap_or_default();
        if let Some(list) = account_emojis.get(&author.id) {
            status.account.emojis = list.clone();
        }
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
        if let Some(mut status) = status
            && filtering::apply(&filters, scope, now, row.id, row.reblog_of_id, &mut status)
        {
            out.push(status);
        }
    }
    Ok(out)
}

/// The polls of a page's statuses, their options and the viewer's
/// choices: three queries for the page.
struct PagePolls {
    by_status: HashMap<i64, PollRow>,
    options: HashMap<i64, Vec<OptionRow>>,
    choices: HashMap<i64, Vec<i32>>,
}

impl PagePolls {
    async fn load(db: &perch_db::Db, viewer: i64, status_ids: &[i64]) -> Result<Self, ApiError> {
        let by_status: HashMap<i64, PollRow> = polls::for_statuses(db, status_ids)
            .await?
            .into_iter()
            .map(|p| (p.status_id, p))
            .collect();
        let poll_ids: Vec<i64> = by_status.values().map(|p| p.id).collect();
        let mut options: HashMap<i64, Vec<OptionRow>> = HashMap::new();
        for option in polls::options_of(db, &poll_ids).await? {
            options.entry(option.poll_id).or_default().push(option);
        }
        let mut choices: HashMap<i64, Vec<i32>> = HashMap::new();
        for (poll_id, choice) in polls::choices_among(db, viewer, &poll_ids).await? {
            choices.entry(poll_id).or_default().push(choice);
        }
        Ok(PagePolls {
            by_status,
            options,
            choices,
        })
    }

    fn render(&self, row: &StatusRow, viewer: i64, now: i64) -> Option<Poll> {
        let poll = self.by_status.get(&row.id)?;
        let options: Vec<&OptionRow> = self
            .options
            .get(&poll.id)
            .map(|o| o.iter().collect())
            .unwrap_or_default();
        let who = if viewer == 0 {
            PollViewer::Anonymous
        } else {
            PollViewer::Account {
                is_author: row.account_id == viewer,
                choices: self.choices.get(&poll.id).map_or(&[], Vec::as_slice),
            }
        };
        Some(poll_entity(poll, &options, who, now))
    }
}

/// One status, rendered.
pub async fn render_one(
    state: &ApiState,
    viewer: i64,
    row: &StatusRow,
) -> Result<Status, ApiError> {
    render_one_in(state, viewer, row, FilterScope::ANYWHERE).await
}

/// One status, rendered with the viewer's filters of `scope`.
pub async fn render_one_in(
    state: &ApiState,
    viewer: i64,
    row: &StatusRow,
    scope: FilterScope,
) -> Result<Status, ApiError> {
    render_in(state, viewer, std::slice::from_ref(row), scope)
        .await?
        .pop()
        .ok_or_else(ApiError::not_found)
}
