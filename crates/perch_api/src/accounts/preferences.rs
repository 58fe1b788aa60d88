//! `GET /api/v1/preferences`: the account's posting and reading defaults,
//! which clients apply on their side (the visibility a new post starts
//! with, whether media and content warnings open by themselves). The
//! posting defaults are the ones `source` shows in the credentials.

use axum::Json;
use axum::extract::State;
use perch_core::id::Id;
use perch_core::status::Visibility;
use perch_db::accounts::{self, AccountRow};
use perch_db::users::{self, UserCredentials};
use serde::Serialize;

use crate::auth::Auth;
use crate::statuses::default_visibility;
use crate::{ApiError, ApiState};

/// What a new post starts with.
pub(crate) struct PostingDefaults {
    pub visibility: Visibility,
    pub sensitive: bool,
    pub language: Option<String>,
}

impl PostingDefaults {
    /// The language clients start a post in: the chosen one, else the
    /// user's own.
    pub(crate) fn language_shown(&self, user: &UserCredentials) -> Option<String> {
        self.language
            .clone()
            .or_else(|| Some(user.locale.clone()).filter(|l| !l.is_empty()))
    }
}

/// The posting defaults of `account` (`user`), the one rule for them: the
/// visibility the user chose (`source[privacy]`), else followers only for
/// a locked account and public otherwise; sensitive when the user said
/// so; the language the user chose, else none.
pub(crate) fn posting_defaults(account: &AccountRow, user: &UserCredentials) -> PostingDefaults {
    PostingDefaults {
        visibility: user
            .default_visibility
            .map_or_else(|| default_visibility(account), Visibility::from_i16),
        sensitive: user.default_sensitive,
        language: user.default_language.clone().filter(|l| !l.is_empty()),
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
        visibility: posting.visibility.as_str(),
        sensitive: posting.sensitive,
        language: posting.language_shown(&user),
        expand_media: "default",
        expand_spoilers: false,
    }))
}
