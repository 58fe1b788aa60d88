//! The signed-in user's own account: `verify_credentials`.

use axum::Json;
use axum::extract::State;
use perch_core::id::Id;
use perch_db::{accounts, users};

use crate::auth::Auth;
use crate::entities::account::{CredentialAccount, SourceInput, credential_account};
use crate::{ApiError, ApiState};

/// `GET /api/v1/accounts/verify_credentials`: needs `profile` or
/// `read:accounts`.
pub async fn verify_credentials(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<CredentialAccount>, ApiError> {
    auth.require_any(&["profile", "read:accounts"])?;
    let account_id = auth.account_id()?;
    let row = accounts::find_by_id(&state.db, Id::from_i64(account_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let user = users::find_by_account_id(&state.db, account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let follow_requests_count = accounts::count_follow_requests(&state.db, account_id).await?;
    let source = SourceInput {
        note_source: String::new(),
        privacy: "public".to_owned(),
        sensitive: false,
        language: Some(user.locale.clone()),
        follow_requests_count,
    };
    Ok(Json(credential_account(
        &row,
        source,
        &state.config.public_url,
        user.admin,
    )))
}
