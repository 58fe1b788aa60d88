//! Backfill: when a local account starts following a remote one, that
//! account's latest public posts are read from its outbox, so its profile
//! and the follower's home timeline do not wait for new posts, and its
//! pinned posts from its `featured` collection.
//!
//! Bounded in every direction: one outbox document and at most one page
//! of it, [`MAX_POSTS`] posts, no parent chains, and [`BUDGET`] of time in
//! all. Failures are logged, never fatal: the follow stands either way.

use std::time::Duration;

use perch_core::status::Visibility;
use perch_db::accounts::AccountRow;
use perch_db::statuses;
use serde_json::Value;
use url::Url;

use crate::ApubState;
use crate::ingest::{note_by_uri, store_backfilled};
use crate::objects::note::{id_of, parse_note, visibility_of};
use crate::objects::person::authority;
use crate::resolve;

/// Posts taken from an outbox.
pub const MAX_POSTS: usize = 20;
/// Time allowed for the whole backfill.
pub const BUDGET: Duration = Duration::from_secs(10);

/// Fetch and store `author`'s latest public posts, and its pins.
pub async fn recent_posts(state: &ApubState, author: &AccountRow) {
    match tokio::time::timeout(BUDGET, run(state, author)).await {
        Ok(Ok(stored)) => tracing::debug!(author = %author.uri, stored, "outbox backfilled"),
        Ok(Err(error)) => tracing::info!(author = %author.uri, %error, "outbox backfill failed"),
        Err(_) => tracing::info!(author = %author.uri, "outbox backfill ran out of time"),
    }
    match tokio::time::timeout(BUDGET, pinned(state, author)).await {
        Ok(Ok(pins)) => tracing::debug!(author = %author.uri, pins, "featured collection read"),
        Ok(Err(error)) => tracing::info!(author = %author.uri, %error, "reading pins failed"),
        Err(_) => tracing::info!(author = %author.uri, "reading pins ran out of time"),
    }
}

/// Read `author`'s `featured` collection: its pins become what it lists
/// (the author's own posts on its own server, embedded or by id, at most
/// [`MAX_POSTS`]); unknown posts are fetched and stored.
async fn pinned(state: &ApubState, author: &AccountRow) -> Result<usize, String> {
    let Some(featured) = author
        .featured_url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
    else {
        return Ok(0);
    };
    let author_uri = Url::parse(&author.uri).map_err(|e| e.to_string())?;
    if authority(&featured) != authority(&author_uri) {
        return Err("the featured collection is on another server".to_owned());
    }
    let collection = resolve::fetch_object(state, &featured)
        .await
        .map_err(|e| e.to_string())?;
    let mut status_ids = Vec::new();
    for item in ordered_items(&collection).into_iter().take(MAX_POSTS) {
        let Some(id) = id_of(&item) else {
            continue;
        };
        if authority(&id) != authority(&author_uri) {
            continue;
        }
        let stored = match parse_note(&item) {
            // Embedded: stored as read, when it is the author's.
            Ok(note) if note.attributed_to == author_uri => {
                store_backfilled(state, note, author)
                    .await
                    .map_err(|e| e.to_string())?;
                statuses::find_by_uri(&state.db, id.as_str())
                    .await
                    .map_err(|e| e.to_string())?
                    .map(|row| row.id)
            }
            Ok(_) => None,
            Err(_) => note_by_uri(state, &id, 0).await.ok().flatten(),
        };
        status_ids.extend(stored);
    }
    perch_domain::pins::replace_remote(&state.domain, author, &status_ids)
        .await
        .map_err(|e| e.to_string())?;
    Ok(status_ids.len())
}

async fn run(state: &ApubState, author: &AccountRow) -> Result<usize, String> {
    let Some(outbox) = author
        .outbox_url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
    else {
        return Ok(0);
    };
    let author_uri = Url::parse(&author.uri).map_err(|e| e.to_string())?;
    if authority(&outbox) != authority(&author_uri) {
        return Err("the outbox is on another server".to_owned());
    }
    let collection = resolve::fetch_object(state, &outbox)
        .await
        .map_err(|e| e.to_string())?;
    let mut items = ordered_items(&collection);
    if items.is_empty() {
        // The items are on the first page, embedded or by id.
        let first = match &collection["first"] {
            Value::Object(page) => Value::Object(page.clone()),
            other => match id_of(other) {
                Some(url) if authority(&url) == authority(&outbox) => {
                    fetch_page(state, &url).await?
                }
                _ => Value::Null,
            },
        };
        items = ordered_items(&first);
    }
    let mut notes = Vec::new();
    for item in items.into_iter().take(MAX_POSTS) {
        // Only Creates of the author's own notes, embedded (anything else
        // would need fetches this bounded pass does not make).
        if item["type"] != "Create" || id_of(&item["actor"]).as_ref() != Some(&author_uri) {
            continue;
        }
        let Ok(note) = parse_note(&item["object"]) else {
            continue;
        };
        if note.attributed_to != author_uri || authority(&note.id) != authority(&author_uri) {
            continue;
        }
        if visibility_of(&note, author.followers_url.as_deref()) == Visibility::Public {
            notes.push(note);
        }
    }
    // Outboxes list the newest first; stored oldest first, ids keep the
    // posts' order in timelines.
    let mut stored = 0;
    for note in notes.into_iter().rev() {
        if store_backfilled(state, note, author)
            .await
            .map_err(|e| e.to_string())?
        {
            stored += 1;
        }
    }
    Ok(stored)
}

async fn fetch_page(state: &ApubState, url: &Url) -> Result<Value, String> {
    // A page's id carries a query; fetch_object checks the served id.
    resolve::fetch_object(state, url)
        .await
        .map_err(|e| e.to_string())
}

fn ordered_items(collection: &Value) -> Vec<Value> {
    for key in ["orderedItems", "items"] {
        if let Value::Array(items) = &collection[key] {
            return items.clone();
        }
    }
    Vec::new()
}
