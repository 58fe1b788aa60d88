//! Moving an account to another server, Mastodon's way (its web settings
//! have no client API, so these are Perch extensions under
//! `/api/v1/perch/`):
//! - `GET|POST|DELETE /api/v1/perch/aliases` (`acct`: `user@domain` or an
//!   actor URL): the accounts this one names as its own (`alsoKnownAs`),
//!   so that they may move here;
//! - `POST /api/v1/perch/move` (`acct`, `password`): this account moves to
//!   one that names it among its aliases; its followers follow the new one,
//!   and its actor then names where it went (`movedTo`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use perch_apub::resolve;
use perch_db::accounts::{self, AccountRow};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::security::reauthenticate;
use crate::auth::Auth;
use crate::client_ip::ClientIp;
use crate::params::Params;
use crate::{ApiError, ApiState};

#[derive(Deserialize)]
pub struct AliasParams {
    acct: Option<String>,
}

#[derive(Deserialize)]
pub struct MoveParams {
    acct: Option<String>,
    password: Option<String>,
}

pub(super) async fn me(state: &ApiState, auth: &Auth) -> Result<AccountRow, ApiError> {
    accounts::find_by_id(&state.db, perch_core::id::Id::from_i64(auth.account_id()?))
        .await?
        .ok_or_else(ApiError::not_found)
}

fn aliases(row: &AccountRow) -> Vec<String> {
    row.also_known_as
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// The account `acct` names, read fresh from its server (an alias or a
/// move must hold now), or from here when it is local.
async fn account_named(state: &ApiState, acct: Option<&str>) -> Result<AccountRow, ApiError> {
    let acct = acct
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Validation failed: acct must name an account"))?;
    let federation = &state.federation;
    let uri = match Url::parse(acct) {
        Ok(url) => url,
        Err(_) => {
            let acct = acct.trim_start_matches('@');
            let (user, domain) = acct.split_once('@').unwrap_or((acct, ""));
            if domain.is_empty() || domain.eq_ignore_ascii_case(&state.config.domain) {
                return accounts::find_local_by_username(&state.db, user)
                    .await?
                    .filter(|row| row.deleted_at.is_none())
                    .ok_or_else(ApiError::not_found);
            }
            let (row, _) = resolve::actor_by_acct(federation, acct)
                .await
                .map_err(|_| ApiError::not_found())?;
            Url::parse(&row.uri).map_err(|_| ApiError::not_found())?
        }
    };
    match resolve::fetch_actor(federation, &uri).await {
        Ok((row, _)) => Ok(row),
        Err(resolve::ResolveError::Local) => perch_db::actors::find_by_uri(&state.db, uri.as_str())
            .await?
            .ok_or_else(ApiError::not_found),
        Err(_) => Err(ApiError::not_found()),
    }
}

/// `GET /api/v1/perch/aliases`.
pub async fn list_aliases(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    auth.require_any(&["read:accounts", "read"])?;
    let me = me(&state, &auth).await?;
    Ok(Json(json!(aliases(&me))))
}

/// `POST /api/v1/perch/aliases`: answers the aliases.
pub async fn add_alias(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<AliasParams>,
) -> Result<Json<Value>, ApiError> {
    auth.require("write:accounts")?;
    let me = me(&state, &auth).await?;
    let other = account_named(&state, params.acct.as_deref()).await?;
    if other.id == me.id {
        return Err(ApiError::unprocessable(
            "Validation failed: an account is not its own alias",
        ));
    }
    let mut list = aliases(&me);
    if !list.contains(&other.uri) {
        list.push(other.uri);
    }
    perch_domain::accounts::set_aliases(&state.domain, &me, &list).await?;
    Ok(Json(json!(list)))
}

/// `DELETE /api/v1/perch/aliases`: answers the aliases.
pub async fn remove_alias(
    State(state): State<ApiState>,
    auth: Auth,
    Params(params): Params<AliasParams>,
) -> Result<Json<Value>, ApiError> {
    auth.require("write:accounts")?;
    let me = me(&state, &auth).await?;
    let named = params.acct.unwrap_or_default();
    let mut list = aliases(&me);
    let before = list.len();
    list.retain(|alias| alias != named.trim());
    if list.len() == before {
        return Err(ApiError::not_found());
    }
    perch_domain::accounts::set_aliases(&state.domain, &me, &list).await?;
    Ok(Json(json!(list)))
}

/// `POST /api/v1/perch/move`: answers 202 `{}`.
pub async fn move_account(
    State(state): State<ApiState>,
    ClientIp(client): ClientIp,
    auth: Auth,
    Params(params): Params<MoveParams>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    reauthenticate(&state, &auth, client, params.password.as_deref()).await?;
    let me = me(&state, &auth).await?;
    if me.moved_to_account_id.is_some() {
        return Err(ApiError::unprocessable(
            "Validation failed: this account has moved already",
        ));
    }
    let target = account_named(&state, params.acct.as_deref()).await?;
    let moved =
        perch_domain::accounts::move_local(&state.domain, &me, &target, &aliases(&target)).await?;
    tracing::info!(account = me.id, to = %target.uri, moved, "a local account moved");
    Ok((StatusCode::ACCEPTED, Json(json!({}))))
}
