//! `GET /api/v2/search`, as Mastodon answers it: accounts (`@user@domain`
//! or an actor URL, resolved over federation when `resolve=true`, and
//! known accounts whose names start with the query), statuses (a pasted
//! post URL from any server, and statuses the viewer may read that contain
//! every word of the query), and hashtags used here that start with it.
//! Fetching from other servers and searching statuses by their words are
//! for signed-in users only, as in Mastodon.
//!
//! `GET /api/v1/accounts/search` is the accounts half alone, for signed-in
//! users (the completion of a mention, a list's member picker), with
//! `following=true` to keep to the accounts one follows.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use perch_apub::lookup::{self, Linked};
use perch_apub::resolve;
use perch_db::search as search_db;
use perch_db::statuses::StatusRow;
use perch_db::{accounts, actors, statuses};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::auth::MaybeAuth;
use crate::pagination::PageParams;
use crate::params::{Query, lenient_bool};
use crate::statuses::view::render;
use crate::tags::TagItem;
use crate::{ApiError, ApiState};

/// Results of each kind, unless `limit` asks for fewer.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 40;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v2/search", get(search))
        .route("/api/v1/accounts/search", get(accounts_search))
}

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    resolve: Option<bool>,
    #[serde(rename = "type")]
    kind: Option<String>,
    offset: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

async fn search(
    State(state): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Query(params): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    if let Some(auth) = &auth {
        auth.require_any(&["read:search", "read"])?;
    }
    let viewer = match &auth {
        Some(auth) => auth.account_id()?,
        None => 0,
    };
    let query = params.q.unwrap_or_default();
    let query = query.trim();
    let wants = |kind: &str| params.kind.as_deref().is_none_or(|k| k == kind);
    let page = params.page.page(DEFAULT_LIMIT, MAX_LIMIT);
    let offset = match params.offset.as_deref().filter(|o| !o.is_empty()) {
        Some(offset) => offset
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("offset must be a number"))?,
        None => 0,
    };
    // Fetching from other servers is for signed-in users only, as in Mastodon.
    let resolve = params.resolve.unwrap_or(false) && auth.is_some();
    let (mut found_accounts, mut found_statuses, mut hashtags) =
        (Vec::new(), Vec::new(), Vec::new());
    if query.is_empty() {
        return Ok(Json(
            json!({ "accounts": [], "statuses": [], "hashtags": [] }),
        ));
    }
    let url = Url::parse(query)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http"));

    if let Some(url) = &url {
        // A pasted link: a post or an account, here or fetched.
        match find_by_url(&state, viewer, url, resolve).await? {
            Some(Found::Status(row)) if wants("statuses") => found_statuses.push(*row),
            Some(Found::Account(row)) if wants("accounts") => found_accounts.push(*row),
            _ => {}
        }
    } else {
        if wants("accounts") {
            let exact = find_account(&state, query, resolve).await?;
            let prefix = query.trim_start_matches('@');
            let named = if offset == 0 && !prefix.contains('@') {
                search_db::accounts(&state.db, prefix, viewer, false, page.limit).await?
            } else {
                Vec::new()
            };
            for row in exact.into_iter().chain(named) {
                if !found_accounts
                    .iter()
                    .any(|a: &accounts::AccountRow| a.id == row.id)
                {
                    found_accounts.push(row);
                }
            }
            found_accounts.truncate(page.limit as usize);
        }
        if wants("hashtags") && offset == 0 {
            let prefix = query.trim_start_matches('#');
            if !prefix.is_empty() && prefix.chars().all(|c| c.is_alphanumeric() || c == '_') {
                let found = search_db::tags(&state.db, prefix, page.limit).await?;
                let items = found.into_iter().map(TagItem::named).collect();
                hashtags = crate::tags::entities(&state, viewer, items).await?;
            }
        }
        if wants("statuses") && viewer != 0 {
            let words = search_db::words(query);
            found_statuses = search_db::statuses(&state.db, viewer, &words, &page, offset).await?;
        }
    }
    let accounts =
        crate::emojis::accounts(&state, &found_accounts.iter().collect::<Vec<_>>()).await?;
    let statuses = render(&state, viewer, &found_statuses).await?;
    Ok(Json(
        json!({ "accounts": accounts, "statuses": statuses, "hashtags": hashtags }),
    ))
}

#[derive(Deserialize)]
pub struct AccountSearchParams {
    q: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    resolve: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    following: Option<bool>,
}

/// Accounts asked for at once, unless `limit` says otherwise.
const DEFAULT_ACCOUNTS: i64 = 40;
const MAX_ACCOUNTS: i64 = 80;

/// `GET /api/v1/accounts/search`: the account an address or actor URL
/// names (fetched with `resolve=true`), then the accounts whose names
/// start with `q`.
async fn accounts_search(
    State(state): State<ApiState>,
    auth: crate::auth::Auth,
    Query(params): Query<AccountSearchParams>,
) -> Result<Json<Vec<crate::entities::Account>>, ApiError> {
    auth.require_any(&["read:accounts"])?;
    let me = auth.account_id()?;
    let query = params.q.unwrap_or_default();
    let query = query.trim();
    let number = |text: Option<&str>, default: i64| -> Result<i64, ApiError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) => text
                .parse::<i64>()
                .map_err(|_| ApiError::bad_request("limit and offset must be numbers")),
            None => Ok(default),
        }
    };
    let limit = number(params.limit.as_deref(), DEFAULT_ACCOUNTS)?.clamp(1, MAX_ACCOUNTS);
    let offset = number(params.offset.as_deref(), 0)?.clamp(0, 10 * MAX_ACCOUNTS);
    if query.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let following = params.following.unwrap_or(false);
    let mut found: Vec<accounts::AccountRow> = Vec::new();
    if offset == 0 {
        if let Some(row) = find_account(&state, query, params.resolve.unwrap_or(false)).await? {
            let shown = !following
                || perch_db::follows::find(&state.db, perch_db::follows::Kind::Follow, me, row.id)
                    .await?
                    .is_some();
            if shown && row.suspended_at.is_none() {
                found.push(row);
            }
        }
    }
    let prefix = query.trim_start_matches('@');
    if !prefix.contains('@') && Url::parse(query).is_err() {
        let named = search_db::accounts(&state.db, prefix, me, following, offset + limit).await?;
        for row in named.into_iter().skip(offset as usize) {
            if !found.iter().any(|a| a.id == row.id) {
                found.push(row);
            }
        }
    }
    found.truncate(limit as usize);
    Ok(Json(
        crate::emojis::accounts(&state, &found.iter().collect::<Vec<_>>()).await?,
    ))
}

enum Found {
    Status(Box<StatusRow>),
    Account(Box<accounts::AccountRow>),
}

/// What a pasted link names: a status the viewer may read (by its id, or
/// by its page here), or an account (by its actor id); unknown ones
/// fetched from their server when `resolve`.
async fn find_by_url(
    state: &ApiState,
    viewer: i64,
    url: &Url,
    resolve: bool,
) -> Result<Option<Found>, ApiError> {
    let status_id = match statuses::find_by_uri(&state.db, url.as_str()).await? {
        Some(row) => Some(row.id),
        None => local_status_page(state, url),
    };
    if let Some(id) = status_id {
        return Ok(statuses::find_readable(&state.db, id, viewer)
            .await?
            .map(|row| Found::Status(Box::new(row))));
    }
    if let Some(row) = actors::find_by_uri(&state.db, url.as_str()).await? {
        return Ok(Some(Found::Account(Box::new(row))));
    }
    if !resolve || same_origin(url, &state.config.public_url) {
        return Ok(None);
    }
    Ok(match lookup::by_link(&state.federation, url).await {
        Some(Linked::Account(row)) => Some(Found::Account(row)),
        Some(Linked::Status(id)) => statuses::find_readable(&state.db, id, viewer)
            .await?
            .map(|row| Found::Status(Box::new(row))),
        None => None,
    })
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The status a page of this server shows (`/@user/:id`).
fn local_status_page(state: &ApiState, url: &Url) -> Option<i64> {
    if !same_origin(url, &state.config.public_url) {
        return None;
    }
    let mut segments = url.path_segments()?;
    let (user, id) = (segments.next()?, segments.next()?);
    if !user.starts_with('@') || segments.next().is_some() {
        return None;
    }
    id.parse().ok()
}

async fn find_account(
    state: &ApiState,
    query: &str,
    resolve: bool,
) -> Result<Option<perch_db::accounts::AccountRow>, ApiError> {
    let federation = &state.federation;
    if let Ok(url) = Url::parse(query) {
        if let Some(row) = actors::find_by_uri(&state.db, url.as_str()).await? {
            return Ok(Some(row));
        }
        if !resolve {
            return Ok(None);
        }
        return Ok(resolve::actor_by_uri(federation, &url)
            .await
            .ok()
            .map(|(row, _)| row));
    }
    let acct = query.trim_start_matches('@');
    let (user, domain) = match acct.split_once('@') {
        Some((user, domain)) => (user, Some(domain)),
        None => (acct, None),
    };
    match domain {
        None => Ok(accounts::find_local_by_username(&state.db, user).await?),
        Some(domain) if domain.eq_ignore_ascii_case(&state.config.domain) => {
            Ok(accounts::find_local_by_username(&state.db, user).await?)
        }
        Some(domain) => {
            if let Some(row) = perch_db::profiles::find_remote(&state.db, user, domain).await? {
                return Ok(Some(row));
            }
            if !resolve {
                return Ok(None);
            }
            match resolve::actor_by_acct(federation, acct).await {
                Ok((row, _)) => Ok(Some(row)),
                Err(error) => {
                    tracing::info!(%error, acct, "resolving an account failed");
                    Ok(None)
                }
            }
        }
    }
}
