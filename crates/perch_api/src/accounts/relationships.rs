//! `GET /api/v1/accounts/relationships?id[]=…`: how the signed-in account
//! relates to each of the given accounts; `POST /api/v1/accounts/:id/note`,
//! the private note shown in a relationship.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use perch_core::id::Id;
use perch_core::time::now_millis;
use perch_db::accounts;
use perch_db::profiles::{self, RelationshipRow};
use serde::Serialize;

use crate::auth::Auth;
use crate::params::Params;
use crate::{ApiError, ApiState};

/// Mastodon's Relationship entity, every documented field present.
/// Endorsements do not exist yet, so `endorsed` is false.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Relationship {
    pub id: String,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub requested: bool,
    pub requested_by: bool,
    pub domain_blocking: bool,
    pub endorsed: bool,
    pub note: String,
}

pub fn relationship_from_row(row: &RelationshipRow) -> Relationship {
    Relationship {
        id: row.id.to_string(),
        following: row.following,
        // Mastodon reports these for requested follows too: they are the
        // settings the follow will have once accepted.
        showing_reblogs: row.showing_reblogs,
        notifying: row.notifying,
        languages: None,
        followed_by: row.followed_by,
        blocking: row.blocking,
        blocked_by: row.blocked_by,
        muting: row.muting,
        muting_notifications: row.muting_notifications,
        requested: row.requested,
        requested_by: row.requested_by,
        domain_blocking: row.domain_blocking,
        endorsed: false,
        note: row.note.clone(),
    }
}

/// Longest private note, in characters, as Mastodon allows.
pub const MAX_NOTE_CHARS: usize = 2000;

#[derive(Debug, Default, serde::Deserialize)]
pub struct NoteParams {
    comment: Option<String>,
}

/// `POST /api/v1/accounts/:id/note` with `comment` (empty or absent: no
/// note). Answers the relationship.
pub async fn set_note(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<NoteParams>,
) -> Result<Json<Relationship>, ApiError> {
    auth.require("write:accounts")?;
    let me = auth.account_id()?;
    let id: Id = id.parse().map_err(|_| ApiError::not_found())?;
    let target = accounts::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let comment = params.comment.unwrap_or_default();
    let comment = comment.trim();
    if comment.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: Comment is too long (maximum is {MAX_NOTE_CHARS} characters)"
        )));
    }
    profiles::set_note(&state.db, me, target.id, comment, now_millis()).await?;
    let rows = profiles::relationships(&state.db, me, &[target.id]).await?;
    rows.first()
        .map(|row| Json(relationship_from_row(row)))
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/accounts/relationships`: needs `read:follows`. One entry
/// per existing account, in the order asked, duplicates once; ids that name
/// no account (or no number) are left out, as Mastodon does.
pub async fn relationships(
    State(state): State<ApiState>,
    auth: Auth,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Relationship>>, ApiError> {
    auth.require("read:follows")?;
    let me = auth.account_id()?;
    let ids = requested_ids(query.as_deref().unwrap_or_default());
    let rows = profiles::relationships(&state.db, me, &ids).await?;
    let by_id: HashMap<i64, &RelationshipRow> = rows.iter().map(|row| (row.id, row)).collect();
    Ok(Json(
        ids.iter()
            .filter_map(|id| by_id.get(id))
            .map(|row| relationship_from_row(row))
            .collect(),
    ))
}

/// `id[]=1&id[]=2` or `id=1`, first occurrence of each id kept.
fn requested_ids(query: &str) -> Vec<i64> {
    let mut seen = HashSet::new();
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == "id" || key == "id[]")
        .filter_map(|(_, value)| value.trim().parse::<i64>().ok())
        .filter(|id| seen.insert(*id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::requested_ids;

    #[test]
    fn ids_in_order_without_duplicates_or_junk() {
        assert_eq!(requested_ids("id[]=3&id[]=1&id=3&id[]=x&other=5"), [3, 1]);
        assert_eq!(requested_ids("id%5B%5D=7"), [7]);
        assert_eq!(requested_ids(""), Vec::<i64>::new());
    }
}
