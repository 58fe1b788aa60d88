//! Hashtags, as Mastodon serves them: `GET /api/v1/tags/:name`, following
//! one (`POST /api/v1/tags/:name/follow|unfollow`, `GET
//! /api/v1/followed_tags`), featuring one from its page (`POST
//! /api/v1/tags/:name/feature|unfeature`), and the Tag entity every other
//! answer (search, trends, suggestions) renders through [`entities`].

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_core::id::Id;
use perch_core::time::now_millis;
use perch_db::accounts::{self, AccountRow};
use perch_db::discovery::TagDay;
use perch_db::{featured_tags, tag_follows};
use serde_json::{Value, json};

use crate::auth::{Auth, MaybeAuth};
use crate::pagination::{PageParams, link_header, paged_json};
use crate::params::Query;
use crate::{ApiError, ApiState};

const DAY: i64 = 24 * 3600 * 1000;
/// The days a Tag's `history` covers, today first.
pub(crate) const HISTORY_DAYS: i64 = 7;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/tags/{name}", get(show))
        .route("/api/v1/tags/{name}/follow", post(follow))
        .route("/api/v1/tags/{name}/unfollow", post(unfollow))
        .route("/api/v1/tags/{name}/feature", post(feature))
        .route("/api/v1/tags/{name}/unfeature", post(unfeature))
        .route("/api/v1/followed_tags", get(followed))
}

/// A tag to render: its lower-cased name and, where the answer shows it,
/// its use by day.
pub(crate) struct TagItem {
    pub name: String,
    pub history: Vec<Value>,
}

impl TagItem {
    /// A tag shown without its history, as search and lists do.
    pub(crate) fn named(name: impl Into<String>) -> TagItem {
        TagItem {
            name: name.into(),
            history: Vec::new(),
        }
    }
}

/// Mastodon's TagHistory: one entry a day over `days` days, today first,
/// with counts as strings.
pub(crate) fn history(found: &[TagDay], days: i64, now: i64) -> Vec<Value> {
    let today = now / DAY;
    (0..days)
        .map(|back| {
            let day = today - back;
            let used = found.iter().find(|d| d.day == day);
            json!({
                "day": (day * DAY / 1000).to_string(),
                "uses": used.map_or(0, |d| d.uses).to_string(),
                "accounts": used.map_or(0, |d| d.accounts).to_string(),
            })
        })
        .collect()
}

/// Mastodon's Tag entities for `items`, in their order, with whether
/// `viewer` (0: nobody) follows and features each: one query for them all.
/// A tag no status has used yet has no id.
pub(crate) async fn entities(
    state: &ApiState,
    viewer: i64,
    items: Vec<TagItem>,
) -> Result<Vec<Value>, ApiError> {
    let names: Vec<String> = items.iter().map(|item| item.name.clone()).collect();
    let known: HashMap<String, tag_follows::TagState> =
        tag_follows::states(&state.db, viewer, &names)
            .await?
            .into_iter()
            .map(|tag| (tag.name.clone(), tag))
            .collect();
    let base = state.config.public_url.as_str().trim_end_matches('/');
    Ok(items
        .into_iter()
        .map(|item| {
            let stored = known.get(&item.name);
            json!({
                "id": stored.map(|tag| tag.id.to_string()),
                "url": format!("{base}/tags/{}", item.name),
                "name": item.name,
                "history": item.history,
                "following": stored.is_some_and(|tag| tag.following),
                "featuring": stored.is_some_and(|tag| tag.featuring),
            })
        })
        .collect())
}

async fn one(state: &ApiState, viewer: i64, item: TagItem) -> Result<Json<Value>, ApiError> {
    entities(state, viewer, vec![item])
        .await?
        .pop()
        .map(Json)
        .ok_or_else(|| ApiError::internal(&"no tag was rendered"))
}

/// The tag a path names, refused as Mastodon refuses an unknown record.
fn path_name(name: &str) -> Result<String, ApiError> {
    perch_domain::tags::tag_name(name).map_err(|_| ApiError::not_found())
}

async fn me(state: &ApiState, auth: &Auth) -> Result<AccountRow, ApiError> {
    accounts::find_by_id(&state.db, Id::from_i64(auth.account_id()?))
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/tags/:name`: the tag with its week of use, also when no
/// status has carried it yet.
async fn show(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let name = path_name(&name)?;
    let viewer = match &auth.0 {
        Some(auth) => auth.account_id().unwrap_or(0),
        None => 0,
    };
    let now = now_millis();
    let since = (now / DAY - HISTORY_DAYS + 1) * DAY;
    let days = perch_db::discovery::tag_days(&state.db, &name, since).await?;
    let history = history(&days, HISTORY_DAYS, now);
    one(&state, viewer, TagItem { name, history }).await
}

/// `POST /api/v1/tags/:name/follow`.
async fn follow(
    State(state): State<ApiState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:follows", "follow", "write"])?;
    let me = me(&state, &auth).await?;
    let name = perch_domain::tags::follow(&state.domain, &me, &path_name(&name)?).await?;
    one(&state, me.id, TagItem::named(name)).await
}

/// `POST /api/v1/tags/:name/unfollow`.
async fn unfollow(
    State(state): State<ApiState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:follows", "follow", "write"])?;
    let me = me(&state, &auth).await?;
    let name = perch_domain::tags::unfollow(&state.domain, &me, &path_name(&name)?).await?;
    one(&state, me.id, TagItem::named(name)).await
}

/// `POST /api/v1/tags/:name/feature`: as `POST /api/v1/featured_tags`, and
/// featuring a tag already featured is no error here.
async fn feature(
    State(state): State<ApiState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:accounts", "write"])?;
    let me = me(&state, &auth).await?;
    let name = path_name(&name)?;
    let featured = featured_tags::of_account(&state.db, me.id).await?;
    if !featured.iter().any(|tag| tag.name == name) {
        perch_domain::featured_tags::feature(&state.domain, &me, &name).await?;
    }
    one(&state, me.id, TagItem::named(name)).await
}

/// `POST /api/v1/tags/:name/unfeature`.
async fn unfeature(
    State(state): State<ApiState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["write:accounts", "write"])?;
    let me = me(&state, &auth).await?;
    let name = path_name(&name)?;
    let featured = featured_tags::of_account(&state.db, me.id).await?;
    if let Some(tag) = featured.iter().find(|tag| tag.name == name) {
        featured_tags::remove(&state.db, me.id, tag.id).await?;
    }
    one(&state, me.id, TagItem::named(name)).await
}

/// `GET /api/v1/followed_tags`: paged by the follows, latest first, with
/// Link headers.
async fn followed(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require_any(&["read:follows", "follow", "read"])?;
    let me = auth.account_id()?;
    let page = params.page(100, 200);
    let rows = tag_follows::page(&state.db, me, &page).await?;
    let base = format!("{}api/v1/followed_tags", state.config.public_url);
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.id, o.id));
    let link = link_header(&base, "", bounds, rows.len(), page.limit);
    let items = rows
        .into_iter()
        .map(|row| TagItem::named(row.name))
        .collect();
    Ok(paged_json(entities(&state, me, items).await?, link))
}
