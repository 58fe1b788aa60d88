//! `POST /api/v1/statuses` and `PUT /api/v1/statuses/:id`: the request is
//! checked and its text composed here; the domain layer stores, fans out,
//! notifies and publishes. A status scheduled for later is checked the
//! same way and posted, when due, through the same [`post_as`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use perch_core::status::{MAX_MEDIA_ATTACHMENTS, MAX_SPOILER_CHARACTERS, Visibility};
use perch_db::accounts::AccountRow;
use perch_db::media;
use perch_domain::polls::PostPoll;
use perch_domain::statuses::{self, NewPost, Origin, Posted, Revision};
use serde::Deserialize;

use super::compose::{Composed, compose, length};
use super::polls::{Number, PollParams, requested};
use super::scheduled;
use super::view::render_one;
use super::{readable, signed_in};
use crate::accounts::{PostingDefaults, posting_defaults};
use crate::auth::Auth;
use crate::entities::status::Status;
use crate::params::{Params, lenient_bool};
use crate::{ApiError, ApiState};

#[derive(Debug, Default, Deserialize)]
pub struct StatusParams {
    status: Option<String>,
    in_reply_to_id: Option<String>,
    visibility: Option<String>,
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    sensitive: Option<bool>,
    language: Option<String>,
    #[serde(default, alias = "media_ids[]")]
    media_ids: Vec<String>,
    /// A JSON body's poll.
    poll: Option<PollParams>,
    /// A form's poll fields.
    #[serde(default, rename = "poll[options][]")]
    poll_options: Vec<String>,
    #[serde(rename = "poll[expires_in]")]
    poll_expires_in: Option<Number>,
    #[serde(default, rename = "poll[multiple]", deserialize_with = "lenient_bool")]
    poll_multiple: Option<bool>,
    #[serde(
        default,
        rename = "poll[hide_totals]",
        deserialize_with = "lenient_bool"
    )]
    poll_hide_totals: Option<bool>,
    scheduled_at: Option<String>,
}

impl StatusParams {
    /// The poll asked for, checked.
    fn poll(&self) -> Result<Option<PostPoll>, ApiError> {
        requested(
            self.poll.as_ref(),
            PollParams::from_form(
                self.poll_options.clone(),
                self.poll_expires_in.clone(),
                self.poll_multiple,
                self.poll_hide_totals,
            ),
        )
    }
}

/// The checked text fields of a status.
struct Checked {
    text: String,
    spoiler_text: String,
    sensitive: bool,
    language: Option<String>,
}

fn check(
    state: &ApiState,
    params: &StatusParams,
    defaults: &PostingDefaults,
) -> Result<Checked, ApiError> {
    if params.media_ids.len() > MAX_MEDIA_ATTACHMENTS {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: Media attachments are limited to {MAX_MEDIA_ATTACHMENTS}"
        )));
    }
    let text = params
        .status
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if text.is_empty() && params.media_ids.is_empty() {
        return Err(ApiError::unprocessable(
            "Validation failed: Text can't be blank",
        ));
    }
    let limit = state.config.max_status_characters;
    if length(&text) > limit {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: Text character limit of {limit} exceeded"
        )));
    }
    let spoiler_text = params
        .spoiler_text
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if spoiler_text.chars().count() > MAX_SPOILER_CHARACTERS {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: Spoiler text character limit of {MAX_SPOILER_CHARACTERS} exceeded"
        )));
    }
    let language = match params.language.as_deref().map(str::trim) {
        None | Some("") => defaults.language.clone(),
        Some(code) if is_language_code(code) => Some(code.to_ascii_lowercase()),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Validation failed: Language is not a valid ISO 639 code",
            ));
        }
    };
    Ok(Checked {
        // A content warning hides the text, so it makes the status sensitive.
        sensitive: params.sensitive.unwrap_or(defaults.sensitive) || !spoiler_text.is_empty(),
        text,
        spoiler_text,
        language,
    })
}

/// ISO 639-1 or 639-3: two or three ASCII letters.
pub(crate) fn is_language_code(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphabetic())
}

/// `POST /api/v1/statuses`: the new status, or, with a `scheduled_at`
/// ahead, the ScheduledStatus (one in the past posts now, as Mastodon).
pub async fn create(
    State(state): State<ApiState>,
    auth: Auth,
    headers: HeaderMap,
    Params(params): Params<StatusParams>,
) -> Result<Response, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .map(str::to_owned);
    if let Some(key) = &key {
        if let Some(done) = statuses::by_idempotency_key(&state.domain, me.id, key).await? {
            return Ok(existing(&state, me.id, done).await?.into_response());
        }
    }
    if let Some(at) = scheduled::requested_time(params.scheduled_at.as_deref())? {
        let prepared = prepare(&state, &me, &params).await?;
        let scheduled = scheduled::schedule(&state, &auth, &me, prepared, at).await?;
        return Ok(scheduled.into_response());
    }
    match post_as(&state, &me, &params, key.as_deref(), None).await? {
        Posted::Created(id) | Posted::Existing(id) => {
            Ok(existing(&state, me.id, id).await?.into_response())
        }
        Posted::Duplicate => Err(ApiError::not_found()),
    }
}

/// A request checked as a post: what posting it needs besides its text.
pub(super) struct Prepared {
    checked: Checked,
    pub poll: Option<PostPoll>,
    /// How long the poll was asked to last, in seconds.
    pub poll_expires_in: Option<i64>,
    pub visibility: Visibility,
    pub parent: Option<perch_db::statuses::StatusRow>,
    pub media_ids: Vec<i64>,
}

impl Prepared {
    pub fn text(&self) -> &str {
        &self.checked.text
    }

    pub fn spoiler_text(&self) -> &str {
        &self.checked.spoiler_text
    }

    pub fn sensitive(&self) -> bool {
        self.checked.sensitive
    }

    pub fn language(&self) -> Option<&str> {
        self.checked.language.as_deref()
    }
}

/// Check `params` as `me`'s new status.
async fn prepare(
    state: &ApiState,
    me: &AccountRow,
    params: &StatusParams,
) -> Result<Prepared, ApiError> {
    let user = perch_db::users::find_by_account_id(&state.db, me.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let defaults = posting_defaults(me, &user);
    let checked = check(state, params, &defaults)?;
    let poll = params.poll()?;
    let poll_expires_in = params
        .poll
        .as_ref()
        .and_then(PollParams::expires_in_seconds)
        .or_else(|| params.poll_expires_in.as_ref().and_then(Number::value));
    let visibility = match params.visibility.as_deref() {
        None | Some("") => defaults.visibility,
        Some(v) => v
            .parse::<Visibility>()
            .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))?,
    };
    let parent = match params.in_reply_to_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => Some(readable(state, id, me.id).await?),
        None => None,
    };
    Ok(Prepared {
        checked,
        poll,
        poll_expires_in,
        visibility,
        parent,
        media_ids: media_ids(params)?,
    })
}

/// Post `params` as `me`'s new status, through the domain's one way to
/// post; `scheduled_id` names the scheduled status it publishes.
pub(super) async fn post_as(
    state: &ApiState,
    me: &AccountRow,
    params: &StatusParams,
    key: Option<&str>,
    scheduled_id: Option<i64>,
) -> Result<Posted, ApiError> {
    let Prepared {
        checked,
        poll,
        visibility,
        parent,
        media_ids,
        ..
    } = prepare(state, me, params).await?;
    let Composed {
        html,
        mentions,
        tags,
    } = compose(state, &checked.text).await?;
    Ok(statuses::post(
        &state.domain,
        NewPost {
            author: me,
            content: html,
            spoiler_text: checked.spoiler_text,
            sensitive: checked.sensitive,
            visibility,
            language: checked.language,
            parent: parent.as_ref(),
            mentions: &mentions,
            tags: &tags,
            poll,
            origin: Origin::Local {
                source_text: checked.text,
                media_ids: &media_ids,
                idempotency_key: key,
                scheduled_id,
            },
        },
    )
    .await?)
}

impl StatusParams {
    /// The request a scheduled status stored, to post it as asked.
    pub(super) fn from_scheduled(stored: &scheduled::StoredParams) -> StatusParams {
        StatusParams {
            status: Some(stored.text.clone()),
            in_reply_to_id: stored.in_reply_to_id.clone(),
            visibility: Some(stored.visibility.clone()),
            spoiler_text: stored.spoiler_text.clone(),
            sensitive: stored.sensitive,
            language: stored.language.clone(),
            media_ids: stored.media_ids.clone().unwrap_or_default(),
            poll: stored.poll.as_ref().map(|poll| {
                PollParams::from_form(
                    poll.options.clone(),
                    Some(Number::Int(poll.expires_in)),
                    Some(poll.multiple),
                    Some(poll.hide_totals),
                )
            }),
            ..StatusParams::default()
        }
    }
}

/// The ids of `media_ids[]`.
fn media_ids(params: &StatusParams) -> Result<Vec<i64>, ApiError> {
    params
        .media_ids
        .iter()
        .map(|id| {
            id.parse::<i64>()
                .map_err(|_| ApiError::unprocessable("Validation failed: media_ids are not ids"))
        })
        .collect()
}

/// Locked accounts post to followers by default, as Mastodon's default
/// privacy setting for them is, unless their user chose otherwise (see
/// [`posting_defaults`]).
pub(crate) fn default_visibility(me: &AccountRow) -> Visibility {
    if me.locked {
        Visibility::Private
    } else {
        Visibility::Public
    }
}

async fn existing(state: &ApiState, viewer: i64, id: i64) -> Result<Json<Status>, ApiError> {
    let row = perch_db::statuses::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(render_one(state, viewer, &row).await?))
}

/// `PUT /api/v1/statuses/:id`: a new version of one's own status. The
/// visibility and the parent stay; the earlier version goes to the history.
pub async fn edit(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<StatusParams>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let current = readable(&state, &id, me.id).await?;
    if current.account_id != me.id || current.reblog_of_id.is_some() {
        return Err(ApiError::not_found());
    }
    let current_ids: Vec<String> = media::for_statuses(&state.db, &[current.id])
        .await?
        .iter()
        .map(|m| m.id.to_string())
        .collect();
    if !params.media_ids.is_empty() && params.media_ids != current_ids {
        return Err(ApiError::unprocessable(
            "Validation failed: Changing the attachments of a status is not supported",
        ));
    }
    // A poll stays as it is (clients send it again with the edit); adding
    // one to a status without is not an edit Perch makes.
    let has_poll = perch_db::polls::for_status(&state.db, current.id)
        .await?
        .is_some();
    if !has_poll && params.poll()?.is_some() {
        return Err(ApiError::unprocessable(
            "Validation failed: Adding a poll to a status is not supported",
        ));
    }
    let mut params = params;
    params.media_ids = current_ids;
    // An edit without a language keeps the status's own.
    let kept = PostingDefaults {
        visibility: Visibility::from_i16(current.visibility),
        sensitive: false,
        language: current.language.clone(),
    };
    let checked = check(&state, &params, &kept)?;
    let Composed {
        html,
        mentions,
        tags,
    } = compose(&state, &checked.text).await?;
    statuses::edit(
        &state.domain,
        &current,
        &me,
        Revision {
            content: html,
            source_text: Some(checked.text),
            spoiler_text: checked.spoiler_text,
            sensitive: checked.sensitive,
            language: checked.language,
            mentions: &mentions,
            tags: &tags,
            edited_at: None,
            received: None,
        },
    )
    .await?;
    existing(&state, me.id, current.id).await
}
