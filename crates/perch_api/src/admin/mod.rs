//! The parts of Mastodon's admin API that Perch has: accounts (listing,
//! approving sign-ups, and moderators' actions: [`accounts`]), the
//! reports queue ([`reports`]) and the servers the instance blocks or
//! allows ([`federation`]). Each endpoint needs
//! a token with its `admin:` scope and a caller whose role holds the
//! permission Mastodon ties to it (perch_core's `Role`).

mod accounts;
mod federation;
mod reports;

use axum::Router;
use perch_core::id::Id;
use perch_core::role::Role;
use perch_db::accounts::AccountRow;
use perch_db::users;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::entities::account::{account_from_row, role_entity};
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .merge(accounts::routes())
        .merge(federation::routes())
        .merge(reports::routes())
}

/// The caller's account and role, when its role holds the `permission`
/// flags and its token `scope`.
async fn require_role(
    state: &ApiState,
    auth: &Auth,
    scope: &str,
    permission: u32,
) -> Result<(AccountRow, Role), ApiError> {
    auth.require(scope)?;
    let id = auth.account_id()?;
    let role = users::find_by_account_id(&state.db, id)
        .await?
        .map_or(Role::User, |user| user.role());
    if !role.may(permission) {
        return Err(ApiError::forbidden("This action is not allowed"));
    }
    let account = perch_db::accounts::find_by_id(&state.db, Id::from_i64(id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((account, role))
}

/// Mastodon's Admin::Account: the account with what moderators see of its
/// user (for a local account) or its server (for a remote one).
async fn admin_account(state: &ApiState, row: &AccountRow) -> Result<Value, ApiError> {
    let user = match row.domain {
        None => users::find_by_account_id(&state.db, row.id).await?,
        Some(_) => None,
    };
    Ok(json!({
        "id": row.id.to_string(),
        "username": row.username,
        "domain": row.domain,
        "created_at": crate::entities::iso8601_millis(row.created_at),
        "email": user.as_ref().map(|u| u.email.clone()),
        "ip": null,
        "ips": [],
        "locale": user.as_ref().map(|u| u.locale.clone()),
        "invite_request": null,
        "role": user.as_ref().map(|u| role_entity(u.role())),
        "confirmed": true,
        "approved": user.as_ref().is_none_or(|u| u.approved),
        "disabled": user.as_ref().is_some_and(|u| u.disabled_at.is_some()),
        "silenced": row.silenced_at.is_some(),
        "suspended": row.suspended_at.is_some(),
        "sensitized": row.sensitized_at.is_some(),
        "account": account_from_row(row, &state.config.public_url),
    }))
}
