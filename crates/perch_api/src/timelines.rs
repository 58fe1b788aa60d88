//! Timelines: home, public, hashtag, an account's statuses, and one's
//! favourites and bookmarks, newest first, paged with `Link` headers, with
//! the viewer's filters of each timeline's context (none for favourites
//! and bookmarks, which only mark).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use perch_core::id::Id;
use perch_db::accounts;
use perch_db::favourites;
use perch_db::statuses::StatusRow;
use perch_db::timelines::{self, AccountFilter, PublicFilter};
use serde::Deserialize;

use crate::auth::{Auth, MaybeAuth};
use crate::pagination::{PageParams, link_header, paged_json};
use crate::params::{Query, lenient_bool};
use crate::statuses::filtering::FilterScope;
use crate::statuses::view::{render, render_in};
use crate::{ApiError, ApiState};
use perch_core::filter::FilterContext;

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 40;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/timelines/home", get(home))
        .route("/api/v1/timelines/public", get(public))
        .route("/api/v1/timelines/tag/{hashtag}", get(tag))
        .route("/api/v1/accounts/{id}/statuses", get(account_statuses))
        .route("/api/v1/favourites", get(liked))
        .route("/api/v1/bookmarks", get(bookmarked))
}

fn viewer(auth: &MaybeAuth) -> Result<i64, ApiError> {
    match &auth.0 {
        Some(auth) => {
            auth.require("read:statuses")?;
            Ok(auth.account_id.unwrap_or(0))
        }
        None => Ok(0),
    }
}

/// Statuses with the `Link` header for their ids.
async fn page_of(
    state: &ApiState,
    viewer: i64,
    context: FilterContext,
    path: &str,
    extra: &str,
    rows: Vec<StatusRow>,
    limit: i64,
) -> Result<Response, ApiError> {
    let base = format!(
        "{}{}",
        state.config.public_url,
        path.trim_start_matches('/')
    );
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.id, o.id));
    let link = link_header(&base, extra, bounds, rows.len(), limit);
    let statuses = render_in(state, viewer, &rows, FilterScope::timeline(context)).await?;
    Ok(paged_json(statuses, link))
}

/// `GET /api/v1/timelines/home`.
async fn home(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require("read:statuses")?;
    let me = auth.account_id()?;
    let page = params.page(DEFAULT_LIMIT, MAX_LIMIT);
    let rows = timelines::home(&state.db, me, &page).await?;
    page_of(
        &state,
        me,
        FilterContext::Home,
        "/api/v1/timelines/home",
        "",
        rows,
        page.limit,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
struct PublicParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    only_media: Option<bool>,
}

impl PublicParams {
    fn filter(&self) -> Result<PublicFilter, ApiError> {
        Ok(PublicFilter {
            only_media: self.only_media == Some(true),
            local: match (self.local, self.remote) {
                (Some(true), _) => Some(true),
                (_, Some(true)) => Some(false),
                _ => None,
            },
        })
    }

    /// The filters to keep in `Link` URLs.
    fn extra(&self) -> String {
        let mut extra = Vec::new();
        if self.local == Some(true) {
            extra.push("local=true");
        }
        if self.remote == Some(true) {
            extra.push("remote=true");
        }
        if self.only_media == Some(true) {
            extra.push("only_media=true");
        }
        extra.join("&")
    }
}

/// `GET /api/v1/timelines/public`: open to everyone, as Mastodon's default.
async fn public(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Query(params): Query<PublicParams>,
) -> Result<Response, ApiError> {
    let viewer = viewer(&auth)?;
    let page = params.page.page(DEFAULT_LIMIT, MAX_LIMIT);
    let rows = timelines::public(&state.db, viewer, params.filter()?, &page).await?;
    page_of(
        &state,
        viewer,
        FilterContext::Public,
        "/api/v1/timelines/public",
        &params.extra(),
        rows,
        page.limit,
    )
    .await
}

/// `GET /api/v1/timelines/tag/:hashtag`.
async fn tag(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(hashtag): Path<String>,
    Query(params): Query<PublicParams>,
) -> Result<Response, ApiError> {
    let viewer = viewer(&auth)?;
    let page = params.page.page(DEFAULT_LIMIT, MAX_LIMIT);
    let name = hashtag.trim_start_matches('#').to_lowercase();
    let rows = timelines::tag(&state.db, &name, viewer, params.filter()?, &page).await?;
    let path = format!("/api/v1/timelines/tag/{}", urlencode(&name));
    let context = FilterContext::Public;
    page_of(
        &state,
        viewer,
        context,
        &path,
        &params.extra(),
        rows,
        page.limit,
    )
    .await
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Debug, Default, Deserialize)]
struct AccountParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient_bool")]
    exclude_replies: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    exclude_reblogs: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    only_media: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pinned: Option<bool>,
}

/// `GET /api/v1/accounts/:id/statuses`.
async fn account_statuses(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Query(params): Query<AccountParams>,
) -> Result<Response, ApiError> {
    let viewer = viewer(&auth)?;
    let id: Id = id.parse().map_err(|_| ApiError::not_found())?;
    let account = accounts::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let page = params.page.page(DEFAULT_LIMIT, MAX_LIMIT);
    let path = format!("/api/v1/accounts/{}/statuses", account.id);
    // The pins, latest first, all on one page (there are few).
    if params.pinned == Some(true) {
        let rows = if page.max_id.is_none() && page.min_id.is_none() && page.since_id.is_none() {
            perch_db::pins::pinned(&state.db, account.id, viewer, page.limit).await?
        } else {
            Vec::new()
        };
        let context = FilterContext::Account;
        return page_of(
            &state,
            viewer,
            context,
            &path,
            "pinned=true",
            rows,
            page.limit,
        )
        .await;
    }
    let filter = AccountFilter {
        only_media: params.only_media == Some(true),
        exclude_replies: params.exclude_replies.unwrap_or(false),
        exclude_reblogs: params.exclude_reblogs.unwrap_or(false),
    };
    let rows = timelines::account(&state.db, account.id, viewer, filter, &page).await?;
    let mut extra = Vec::new();
    if filter.exclude_replies {
        extra.push("exclude_replies=true");
    }
    if filter.exclude_reblogs {
        extra.push("exclude_reblogs=true");
    }
    if filter.only_media {
        extra.push("only_media=true");
    }
    let context = FilterContext::Account;
    page_of(
        &state,
        viewer,
        context,
        &path,
        &extra.join("&"),
        rows,
        page.limit,
    )
    .await
}

/// `GET /api/v1/favourites`: paged by when the like happened.
async fn liked(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require_any(&["read:favourites"])?;
    let me = auth.account_id()?;
    let page = params.page(DEFAULT_LIMIT, MAX_LIMIT);
    let rows = favourites::liked_statuses(&state.db, me, &page).await?;
    let base = format!("{}api/v1/favourites", state.config.public_url);
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.0, o.0));
    let link = link_header(&base, "", bounds, rows.len(), page.limit);
    let statuses: Vec<StatusRow> = rows.into_iter().map(|(_, s)| s).collect();
    Ok(paged_json(render(&state, me, &statuses).await?, link))
}

/// `GET /api/v1/bookmarks`: paged by when the bookmark was made.
async fn bookmarked(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require_any(&["read:bookmarks"])?;
    let me = auth.account_id()?;
    let page = params.page(DEFAULT_LIMIT, MAX_LIMIT);
    let rows = perch_db::bookmarks::bookmarked_statuses(&state.db, me, &page).await?;
    let base = format!("{}api/v1/bookmarks", state.config.public_url);
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.0, o.0));
    let link = link_header(&base, "", bounds, rows.len(), page.limit);
    let statuses: Vec<StatusRow> = rows.into_iter().map(|(_, s)| s).collect();
    Ok(paged_json(render(&state, me, &statuses).await?, link))
}
