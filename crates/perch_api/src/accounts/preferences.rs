//! `GET /api/v1/preferences`: the account's posting and reading defaults,
//! which clients apply on their side (the visibility a new post starts
//! with, whether media and content warnings open by themselves). The
//! posting defaults are the ones `source` shows in the credentials.

use axum::Json;
use axum::extract::State;
use perch_db::users::{self, UserCredentials};
use serde::Serialize;

use crate::auth::Auth;
use crate::{ApiError, ApiState};

/// What a new post starts with.
pub(super) struct PostingDefaults {
    pub privacy: &'static str,
    pub sensitive: bool,
    pub language: Option<String>,
}

/// The posting defaults of `user`: Perch keeps no per-account choice yet,
/// so posts start public, not sensitive, in the user's language.
pub(super) fn posting_defaults(user: &UserCredentials) -> PostingDefaults {
    PostingDefaults {
        privacy: "public",
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
    let user = users::find_by_account_id(&state.db, auth.account_id()?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let posting = posting_defaults(&user);
    Ok(Json(Preferences {
        visibility: posting.privacy,
        sensitive: posting.sensitive,
        language: posting.language,
        expand_media: "default",
        expand_spoilers: false,
    }))
}
