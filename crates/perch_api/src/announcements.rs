//! Announcements, as Mastodon serves them to users: `GET
//! /api/v1/announcements` (those not ended, oldest first, each `read` or
//! not by the viewer), `POST /api/v1/announcements/:id/dismiss`, and
//! `PUT|DELETE /api/v1/announcements/:id/reactions/:name`. The staff
//! publish them with `perch announcement`; the rules are perch_domain's
//! `announcements`, and the `user` stream hears of every change.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use perch_core::id::Id;
use perch_core::time::now_millis;
use perch_db::accounts::{self, AccountRow};
use perch_db::announcements::{self, AnnouncementRow, ReactionCount};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::entities::iso8601_millis;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/announcements", get(index))
        .route("/api/v1/announcements/{id}/dismiss", post(dismiss))
        .route(
            "/api/v1/announcements/{id}/reactions/{name}",
            put(react).delete(unreact),
        )
}

/// The local custom emoji, by shortcode: their picture.
async fn custom_emoji(state: &ApiState) -> Result<HashMap<String, String>, ApiError> {
    Ok(perch_db::emojis::local(&state.db)
        .await?
        .into_iter()
        .map(|row| (row.shortcode, row.image_url))
        .collect())
}

/// Mastodon's Reaction of an announcement.
fn reaction_entity(reaction: &ReactionCount, custom: &HashMap<String, String>) -> Value {
    let url = custom.get(&reaction.name);
    json!({
        "name": reaction.name,
        "count": reaction.count,
        "me": reaction.me,
        "url": url,
        "static_url": url,
    })
}

/// Mastodon's Announcement: `read` is the viewer's, `reactions` counted
/// with the viewer's own marked `me`.
pub fn entity(
    state: &ApiState,
    row: &AnnouncementRow,
    read: bool,
    reactions: &[&ReactionCount],
    custom: &HashMap<String, String>,
) -> Value {
    let layout = &state.federation.layout;
    let tags: Vec<Value> = perch_core::content::parse(&row.text)
        .tags
        .iter()
        .map(|name| json!({"name": name, "url": layout.tag_url(name)}))
        .collect();
    json!({
        "id": row.id.to_string(),
        "content": row.content,
        "starts_at": row.starts_at.map(iso8601_millis),
        "ends_at": row.ends_at.map(iso8601_millis),
        "all_day": row.all_day,
        "published_at": iso8601_millis(row.published_at),
        "updated_at": iso8601_millis(row.updated_at),
        "read": read,
        "mentions": [],
        "statuses": [],
        "tags": tags,
        "emojis": [],
        "reactions": reactions
            .iter()
            .map(|r| reaction_entity(r, custom))
            .collect::<Vec<_>>(),
    })
}

/// A new announcement as the `user` stream sends it (nobody has read it
/// or reacted yet).
pub async fn for_stream(state: &ApiState, id: i64) -> Result<Option<Value>, ApiError> {
    let Some(row) = announcements::find_current(&state.db, id, now_millis()).await? else {
        return Ok(None);
    };
    let custom = custom_emoji(state).await?;
    Ok(Some(entity(state, &row, false, &[], &custom)))
}

/// The payload of `announcement.reaction` for reaction `name_id`.
pub async fn reaction_for_stream(
    state: &ApiState,
    name_id: i64,
) -> Result<Option<Value>, ApiError> {
    Ok(announcements::reaction(&state.db, name_id).await?.map(|r| {
        json!({
            "name": r.name,
            "count": r.count,
            "announcement_id": r.announcement_id.to_string(),
        })
    }))
}

async fn me(state: &ApiState, auth: &Auth) -> Result<AccountRow, ApiError> {
    accounts::find_by_id(&state.db, Id::from_i64(auth.account_id()?))
        .await?
        .ok_or_else(ApiError::not_found)
}

fn id_of(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::not_found())
}

/// `GET /api/v1/announcements`.
async fn index(State(state): State<ApiState>, auth: Auth) -> Result<Json<Vec<Value>>, ApiError> {
    auth.require_any(&["read"])?;
    let me = auth.account_id()?;
    let rows = announcements::current(&state.db, now_millis()).await?;
    let read: HashSet<i64> = announcements::dismissed_by(&state.db, me)
        .await?
        .into_iter()
        .collect();
    let reactions = announcements::reactions(&state.db, me).await?;
    let custom = custom_emoji(&state).await?;
    Ok(Json(
        rows.iter()
            .map(|row| {
                let own: Vec<&ReactionCount> = reactions
                    .iter()
                    .filter(|r| r.announcement_id == row.id)
                    .collect();
                entity(&state, row, read.contains(&row.id), &own, &custom)
            })
            .collect(),
    ))
}

/// `POST /api/v1/announcements/:id/dismiss`: answers `{}`.
async fn dismiss(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:accounts"])?;
    let me = auth.account_id()?;
    let id = id_of(&id)?;
    if announcements::find_current(&state.db, id, now_millis())
        .await?
        .is_none()
    {
        return Err(ApiError::not_found());
    }
    announcements::dismiss(&state.db, id, me).await?;
    Ok(Json(json!({})))
}

/// `PUT /api/v1/announcements/:id/reactions/:name`: answers `{}`.
async fn react(
    State(state): State<ApiState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:favourites"])?;
    let me = me(&state, &auth).await?;
    perch_domain::announcements::react(&state.domain, &me, id_of(&id)?, &name).await?;
    Ok(Json(json!({})))
}

/// `DELETE /api/v1/announcements/:id/reactions/:name`: answers `{}`.
async fn unreact(
    State(state): State<ApiState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:favourites"])?;
    let me = me(&state, &auth).await?;
    perch_domain::announcements::unreact(&state.domain, &me, id_of(&id)?, &name).await?;
    Ok(Json(json!({})))
}
