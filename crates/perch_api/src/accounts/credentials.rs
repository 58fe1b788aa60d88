//! The signed-in user's own account: `verify_credentials`, and the
//! CredentialAccount that `update_credentials` answers too.

use axum::Json;
use axum::extract::State;
use perch_core::id::Id;
use perch_db::{accounts, profiles, users};

use crate::auth::Auth;
use crate::entities::account::{CredentialAccount, SourceInput, credential_account_with_fields};
use crate::{ApiError, ApiState};

/// `GET /api/v1/accounts/verify_credentials`: needs `profile` or
/// `read:accounts`.
pub async fn verify_credentials(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<CredentialAccount>, ApiError> {
    auth.require_any(&["profile", "read:accounts"])?;
    let account_id = auth.account_id()?;
    credential_account_of(&state, account_id).await.map(Json)
}

/// The CredentialAccount of the local account `account_id`.
pub(super) async fn credential_account_of(
    state: &ApiState,
    account_id: i64,
) -> Result<CredentialAccount, ApiError> {
    let row = accounts::find_by_id(&state.db, Id::from_i64(account_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let user = users::find_by_account_id(&state.db, account_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let follow_requests_count = accounts::count_follow_requests(&state.db, account_id).await?;
    let note_source = profiles::note_source(&state.db, account_id)
        .await?
        .unwrap_or_default();
    let fields = profiles::fields_of(&state.db, account_id).await?;
    let posting = super::preferences::posting_defaults(&row, &user);
    let source = SourceInput {
        note_source,
        privacy: posting.visibility.as_str().to_owned(),
        sensitive: posting.sensitive,
        language: posting.language_shown(&user),
        follow_requests_count,
    };
    let mut credential = credential_account_with_fields(
        &row,
        &fields,
        source,
        &state.config.public_url,
        user.role(),
    );
    let emojis = crate::emojis::of_accounts(&state.db, &[&row]).await?;
    credential.account = crate::emojis::with_emojis(credential.account, &row, &emojis);
    Ok(credential)
}
