//! `GET /api/v1/accounts/:id`: any account, local or remote, for anyone,
//! with `moved` naming the account it moved to.

use axum::Json;
use axum::extract::{Path, State};
use perch_core::id::Id;
use perch_db::{accounts, profiles};

use crate::auth::MaybeAuth;
use crate::entities::account::{Account, account_with_fields};
use crate::{ApiError, ApiState};

pub async fn show(
    State(state): State<ApiState>,
    _auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<Account>, ApiError> {
    let id: Id = id.parse().map_err(|_| ApiError::not_found())?;
    let row = accounts::find_by_id(&state.db, id)
        .await?
        .filter(|row| row.actor_type != "Application" || row.domain.is_some())
        .ok_or_else(ApiError::not_found)?;
    let fields = profiles::fields_of(&state.db, row.id).await?;
    let emojis = crate::emojis::of_accounts(&state.db, &[&row]).await?;
    let mut account = crate::emojis::with_emojis(
        account_with_fields(&row, &fields, &state.config.public_url),
        &row,
        &emojis,
    );
    if let Some(target) = row.moved_to_account_id {
        if let Some(target) = accounts::find_by_id(&state.db, Id::from_i64(target)).await? {
            account.moved = Some(Box::new(crate::emojis::account(&state, &target).await?));
        }
    }
    Ok(Json(account))
}
