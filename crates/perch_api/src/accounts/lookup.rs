//! `GET /api/v1/accounts/lookup?acct=`: finding an account by its address.
//! Public; a caller who sends a token needs `read:accounts`, as in
//! Mastodon.

use axum::Json;
use axum::extract::State;
use perch_db::accounts;
use perch_db::profiles;
use serde::Deserialize;

use crate::auth::MaybeAuth;
use crate::entities::account::{Account, account_with_fields};
use crate::params::Query;
use crate::{ApiError, ApiState};

#[derive(Debug, Deserialize)]
pub struct LookupParams {
    acct: Option<String>,
}

/// `GET /api/v1/accounts/lookup?acct=`: `user`, `@user`, `user@our.domain`
/// or a known remote `user@their.domain`. Nothing is fetched: an account
/// the database does not hold is a 404, as in Mastodon.
pub async fn lookup(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Query(params): Query<LookupParams>,
) -> Result<Json<Account>, ApiError> {
    check_token(&auth)?;
    let acct = params.acct.unwrap_or_default();
    let (username, domain) = split_acct(&acct).ok_or_else(ApiError::not_found)?;
    let row = match domain {
        Some(domain) if !domain.eq_ignore_ascii_case(&state.config.domain) => {
            profiles::find_remote(&state.db, username, domain).await?
        }
        _ => accounts::find_local_by_username(&state.db, username).await?,
    };
    // The instance actor is an implementation detail, as in `show`.
    let row = row
        .filter(|row| row.actor_type != "Application" || row.domain.is_some())
        .ok_or_else(ApiError::not_found)?;
    let fields = profiles::fields_of(&state.db, row.id).await?;
    let emojis = crate::emojis::of_accounts(&state.db, &[&row]).await?;
    Ok(Json(crate::emojis::with_emojis(
        account_with_fields(&row, &fields, &state.config.public_url),
        &row,
        &emojis,
    )))
}

fn check_token(auth: &MaybeAuth) -> Result<(), ApiError> {
    match &auth.0 {
        Some(auth) => auth.require("read:accounts"),
        None => Ok(()),
    }
}

/// `user`, `@user`, `user@domain` or `@user@domain` → (user, domain).
fn split_acct(acct: &str) -> Option<(&str, Option<&str>)> {
    let acct = acct.trim();
    let acct = acct.strip_prefix('@').unwrap_or(acct);
    let (username, domain) = match acct.split_once('@') {
        Some((username, domain)) => (username, Some(domain)),
        None => (acct, None),
    };
    let valid = !username.is_empty() && domain.is_none_or(|d| !d.is_empty() && !d.contains('@'));
    valid.then_some((username, domain))
}

#[cfg(test)]
mod tests {
    use super::split_acct;

    #[test]
    fn acct_forms() {
        assert_eq!(split_acct("alice"), Some(("alice", None)));
        assert_eq!(split_acct("@alice"), Some(("alice", None)));
        assert_eq!(
            split_acct("@alice@a.example"),
            Some(("alice", Some("a.example")))
        );
        assert_eq!(
            split_acct(" alice@a.example:8080 "),
            Some(("alice", Some("a.example:8080")))
        );
        for bad in ["", "@", "@@a.example", "alice@", "a@b@c"] {
            assert_eq!(split_acct(bad), None, "{bad}");
        }
    }
}
