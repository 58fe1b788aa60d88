//! Polls through the client API: `GET /api/v1/polls/:id` and
//! `POST /api/v1/polls/:id/votes`, and the `poll` parameters of a new
//! status. Who may see and vote in a poll is who may see its status; the
//! rules of a vote are perch_domain's, which the inbox's votes meet too.

use axum::Json;
use axum::extract::{Path, State};
use perch_core::poll::{PollRequest, check};
use perch_core::time::now_millis;
use perch_db::polls::{self, PollRow};
use perch_db::statuses::{self, StatusRow};
use perch_domain::polls::PostPoll;
use serde::Deserialize;

use super::signed_in;
use super::view::render_one;
use crate::auth::Auth;
use crate::auth::MaybeAuth;
use crate::entities::poll::Poll;
use crate::params::{Params, lenient_bool};
use crate::{ApiError, ApiState};

/// A number given as a JSON number or as text (form fields always are).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Number {
    Int(i64),
    /// A whole number written with a fraction (`3600.0`).
    Float(f64),
    Text(String),
}

impl Number {
    pub fn value(&self) -> Option<i64> {
        match self {
            Number::Int(n) => Some(*n),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Text(text) => text.trim().parse().ok(),
        }
    }
}

/// `poll` of a JSON body: `{"options": [...], "expires_in": 3600, ...}`.
#[derive(Debug, Default, Deserialize)]
pub struct PollParams {
    #[serde(default)]
    options: Vec<String>,
    expires_in: Option<Number>,
    #[serde(default, deserialize_with = "lenient_bool")]
    multiple: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    hide_totals: Option<bool>,
}

impl PollParams {
    /// The seconds it asks to last, when they are a number.
    pub fn expires_in_seconds(&self) -> Option<i64> {
        self.expires_in.as_ref().and_then(Number::value)
    }

    /// The form fields' poll.
    pub fn from_form(
        options: Vec<String>,
        expires_in: Option<Number>,
        multiple: Option<bool>,
        hide_totals: Option<bool>,
    ) -> Self {
        PollParams {
            options,
            expires_in,
            multiple,
            hide_totals,
        }
    }
}

/// The poll of a new status, from a JSON body's `poll` or the form fields
/// `poll[options][]`, `poll[expires_in]`, `poll[multiple]` and
/// `poll[hide_totals]`; `None` when neither names options.
pub fn requested(
    json: Option<&PollParams>,
    form: PollParams,
) -> Result<Option<PostPoll>, ApiError> {
    let given = match json {
        Some(json) if !json.options.is_empty() || json.expires_in.is_some() => json,
        _ if !form.options.is_empty() || form.expires_in.is_some() => &form,
        _ => return Ok(None),
    };
    let expires_in = match &given.expires_in {
        None => {
            return Err(ApiError::unprocessable(
                "Validation failed: Poll expires at can't be blank",
            ));
        }
        Some(n) => n.value().ok_or_else(|| {
            ApiError::unprocessable("Validation failed: Poll expires in is not a number")
        })?,
    };
    let request = PollRequest {
        options: given.options.clone(),
        expires_in_seconds: expires_in,
        multiple: given.multiple.unwrap_or(false),
        hide_totals: given.hide_totals.unwrap_or(false),
    };
    check(&request, now_millis())
        .map(|checked| Some(PostPoll::local(checked)))
        .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))
}

/// The poll the path names with its status, if `viewer` (0: nobody) may
/// see the status and, signed in, neither blocks the other's author.
async fn visible(
    state: &ApiState,
    id: &str,
    viewer: i64,
) -> Result<(PollRow, StatusRow), ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let poll = polls::find(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let status = statuses::find_readable(&state.db, poll.status_id, viewer)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if viewer != 0
        && perch_db::blocks::blocked_either_way(&state.db, viewer, status.account_id).await?
    {
        return Err(ApiError::not_found());
    }
    Ok((poll, status))
}

/// The poll as its status renders it for `viewer`.
async fn render(state: &ApiState, viewer: i64, status: &StatusRow) -> Result<Json<Poll>, ApiError> {
    render_one(state, viewer, status)
        .await?
        .poll
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/polls/:id`.
pub async fn show(
    State(state): State<ApiState>,
    auth: MaybeAuth,
    Path(id): Path<String>,
) -> Result<Json<Poll>, ApiError> {
    let viewer = match &auth.0 {
        Some(auth) => {
            auth.require("read:statuses")?;
            auth.account_id.unwrap_or(0)
        }
        None => 0,
    };
    let (_, status) = visible(&state, &id, viewer).await?;
    render(&state, viewer, &status).await
}

#[derive(Debug, Default, Deserialize)]
pub struct VoteParams {
    #[serde(default, alias = "choices[]")]
    choices: Vec<Number>,
}

/// `POST /api/v1/polls/:id/votes` with `choices[]`, the indexes of the
/// chosen options.
pub async fn vote(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<VoteParams>,
) -> Result<Json<Poll>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let (poll, status) = visible(&state, &id, me.id).await?;
    let choices = params
        .choices
        .iter()
        .map(|c| {
            c.value().ok_or_else(|| {
                ApiError::unprocessable("Validation failed: The chosen vote option does not exist")
            })
        })
        .collect::<Result<Vec<i64>, ApiError>>()?;
    perch_domain::polls::vote(&state.domain, &status, &poll, &me, &choices, None).await?;
    render(&state, me.id, &status).await
}
