//! `GET /api/v1/preferences`: the account's posting and reading defaults,
//! which clients apply on their side (the visibility a new post starts
//! with, whether media and content warnings open by themselves). The
//! posting defaults are the ones `source` shows in the credentials.

use axum::Json;
use axum::extract::State;
use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::users::{self, UserCredentials};
use serde::Serialize;

use crate::auth::Auth;
use crate::statuses::default_visibility;
use crate::{ApiError, ApiState};

/// What a new post starts with.
pub(super) struct PostingDefaults {
    pub privacy: &'static str,
    pub sensitive: bool,
    pub language: Option<String>,
}

/// The posting defaults of `account` (`user`): the visibility a post
/// without one gets (followers only for a locked account, public
/// otherwise), not sensitive, in the user's language. Perch keeps no
/// other per-account choice yet.
pub(super) fn posting_defaults(account: &AccountRow, user: &UserCredentials) -> PostingDefaults {
    PostingDefaults {
        privacy: default_visibility(account).as_str(),
        sensitive: false,
        language: Some(user.locale.clone()).filter(|l| !l.is_empty()),
    }
}

/// Mastodon's Preferences entity: its keys are these exact strings.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Preferences {
    #[serde(rename = "posting:default:visibility")]
    pub visibility: &'static str,
    #[serde(rename = "posting:default:sensitive")]
    pub sensitive: bool,
    #[serde(rename = "posting:default:language")]
    pub language: Option<String>,
    /// `default` (hide media marked sensitive), `show_all` or `hide_all`.
    #[serde(rename = "reading:expand:media")]
    pub expand_media: &'static str,
    #[serde(rename = "reading:expand:spoilers")]
    pub expand_spoilers: bool,
}

/// `GET /api/v1/preferences`: needs `read:accounts`.
pub async fn preferences(
    State(state): State<ApiState>,
    auth: Auth,
) -> Result<Json<Preferences>, ApiError> {
    auth.require("read:accounts")?;
    let me = auth.account_id()?;
    let account = accounts::find_by_id(&state.db, Id::from_i64(me))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let user = users::find_by_account_id(&state.db, me)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let posting = posting_defaults(&account, &user);
    Ok(Json(Preferences {
        visibility: posting.privacy,
        sensitive: posting.sensitive,
        language: posting.language,
        expand_media: "default",
        expand_spoilers: false,
    }))
}
