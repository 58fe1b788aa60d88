//! Reading a status and what hangs off it: its thread, its versions, its
//! source text, and who liked or reblogged it.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use perch_core::id::Id;
use perch_db::accounts;
use perch_db::favourites;
use perch_db::statuses;

use perch_core::filter::FilterContext;

use super::filtering::FilterScope;
use super::view::{render, render_in, render_one_in};
use super::{readable, signed_in};
use crate::auth::{Auth, MaybeAuth};
use crate::entities::account::{Account, account_from_row};
use crate::entities::status::{Context, Status, StatusEdit, StatusSource, history as versions};
use crate::pagination::{PageParams, link_header, paged_json};
use crate::params::Query;
use crate::{ApiError, ApiState};

/// How far up a thread is shown.
const MAX_ANCESTORS: i64 = 40;
/// How many replies below it.
const MAX_DESCENDANTS: i64 = 60;

fn viewer(auth: &MaybeAuth) -> i64 {
    auth.0.as_ref().and_then(|a| a.account_id).unwrap_or(0)
}

/// A signed-in caller must hold `read:statuses`; anyone else sees what is
/// public.
fn check_read(auth: &MaybeAuth) -> Result<(), ApiError> {
    match &auth.0 {
        Some(auth) => auth.require("read:statuses"),
        None => Ok(()),
    }
}

/// Statuses asked for at once, at most this many.
const MAX_MANY: usize = 40;

#[derive(Debug, Default, serde::Deserialize)]
pub struct ManyParams {
    #[serde(default, rename = "id[]", alias = "id")]
    id: Vec<String>,
}

/// `GET /api/v1/statuses?id[]=…`: those the caller may read, in the order
/// asked, each once; ids that name nothing readable are left out.
pub async fn index(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Query(params): Query<ManyParams>,
) -> Result<Json<Vec<Status>>, ApiError> {
    check_read(&auth)?;
    let viewer = viewer(&auth);
    let mut ids: Vec<i64> = Vec::new();
    for id in params.id.iter().filter_map(|id| id.trim().parse().ok()) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > MAX_MANY {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: at most {MAX_MANY} ids at once"
        )));
    }
    let mut rows = statuses::find_readable_many(&state.db, &ids, viewer).await?;
    rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
    Ok(Json(render(&state, viewer, &rows).await?))
}

/// `GET /api/v1/statuses/:id`.
pub async fn show(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<Status>, ApiError> {
    check_read(&auth)?;
    let viewer = viewer(&auth);
    let row = readable(&state, &id, viewer).await?;
    // Asked for by id, a status is shown whatever hides it in its thread.
    let scope = FilterScope::shown(FilterContext::Thread);
    Ok(Json(render_one_in(&state, viewer, &row, scope).await?))
}

/// `GET /api/v1/statuses/:id/context`.
pub async fn context(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<Context>, ApiError> {
    check_read(&auth)?;
    let viewer = viewer(&auth);
    let row = readable(&state, &id, viewer).await?;
    let ancestors = statuses::ancestors(&state.db, row.id, viewer, MAX_ANCESTORS).await?;
    let descendants = statuses::descendants(&state.db, row.id, viewer, MAX_DESCENDANTS).await?;
    let scope = FilterScope::timeline(FilterContext::Thread);
    Ok(Json(Context {
        ancestors: render_in(&state, viewer, &ancestors, scope).await?,
        descendants: render_in(&state, viewer, &descendants, scope).await?,
    }))
}

/// `GET /api/v1/statuses/:id/history`: every version, oldest first.
pub async fn history(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<Vec<StatusEdit>>, ApiError> {
    check_read(&auth)?;
    let row = readable(&state, &id, viewer(&auth)).await?;
    let author = accounts::find_by_id(&state.db, Id::from_i64(row.account_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let edits = statuses::edits_of(&state.db, row.id).await?;
    let author = account_from_row(&author, &state.config.public_url);
    Ok(Json(versions(&row, &edits, &author)))
}

/// `GET /api/v1/statuses/:id/source`: the text to edit, for the author.
pub async fn source(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<StatusSource>, ApiError> {
    let me = signed_in(&state, &auth, &["read:statuses"]).await?;
    let row = readable(&state, &id, me.id).await?;
    if row.account_id != me.id {
        return Err(ApiError::not_found());
    }
    Ok(Json(StatusSource {
        id: row.id.to_string(),
        text: row.source_text.unwrap_or_default(),
        spoiler_text: row.spoiler_text,
    }))
}

async fn accounts_page(
    state: &ApiState,
    auth: &MaybeAuth,
    id: &str,
    params: &PageParams,
    reblogs: bool,
) -> Result<Response, ApiError> {
    check_read(auth)?;
    let row = readable(state, id, viewer(auth)).await?;
    let page = params.page(40, 80);
    let rows = if reblogs {
        favourites::reblogged_by(&state.db, row.id, &page).await?
    } else {
        favourites::favourited_by(&state.db, row.id, &page).await?
    };
    let path = if reblogs {
        "reblogged_by"
    } else {
        "favourited_by"
    };
    let base = format!(
        "{}api/v1/statuses/{}/{path}",
        state.config.public_url, row.id
    );
    let bounds = rows.first().zip(rows.last()).map(|(n, o)| (n.0, o.0));
    let link = link_header(&base, "", bounds, rows.len(), page.limit);
    let accounts: Vec<Account> = rows
        .iter()
        .map(|(_, a)| account_from_row(a, &state.config.public_url))
        .collect();
    Ok(paged_json(accounts, link))
}

/// `GET /api/v1/statuses/:id/favourited_by`.
pub async fn favourited_by(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    accounts_page(&state, &auth, &id, &params, false).await
}

/// `GET /api/v1/statuses/:id/reblogged_by`.
pub async fn reblogged_by(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    accounts_page(&state, &auth, &id, &params, true).await
}
