//! `GET /api/v2/search`, for now the account part: `@user@domain` or an
//! actor URL, resolved over federation when `resolve=true`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use perch_apub::resolve;
use perch_db::{accounts, actors};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::auth::MaybeAuth;
use crate::entities::account::account_from_row;
use crate::params::{Query, lenient_bool};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/v2/search", get(search))
}

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    resolve: Option<bool>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

async fn search(
    State(state): State<ApiState>,
    MaybeAuth(auth): MaybeAuth,
    Query(params): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    if let Some(auth) = &auth {
        auth.require_any(&["read:search", "read"])?;
    }
    let query = params.q.unwrap_or_default();
    let query = query.trim();
    let wants_accounts = params.kind.as_deref().is_none_or(|k| k == "accounts");
    // Fetching from other servers is for signed-in users only, as in Mastodon.
    let resolve = params.resolve.unwrap_or(false) && auth.is_some();
    let mut found = Vec::new();
    if wants_accounts && !query.is_empty() {
        if let Some(row) = find_account(&state, query, resolve).await? {
            found.push(account_from_row(&row, &state.config.public_url));
        }
    }
    Ok(Json(
        json!({ "accounts": found, "statuses": [], "hashtags": [] }),
    ))
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
