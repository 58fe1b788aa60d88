//! `GET /api/v1/accounts/:id`: any account, local or remote, for anyone.

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
    Ok(Json(account_with_fields(
        &row,
        &fields,
        &state.config.public_url,
    )))
}
