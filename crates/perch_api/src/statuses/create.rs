//! `POST /api/v1/statuses` and `PUT /api/v1/statuses/:id`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use perch_core::outbound::Outbound;
use perch_core::status::{MAX_MEDIA_ATTACHMENTS, MAX_SPOILER_CHARACTERS, Visibility};
use perch_core::time::now_millis;
use perch_db::accounts::{self, AccountRow};
use perch_db::live::LiveEvent;
use perch_db::media::{self, MediaRow};
use perch_db::notifications;
use perch_db::statuses::{self, Edit, NewStatus, StatusRow};
use serde::Deserialize;

use super::compose::{Composed, compose, length};
use super::view::render_one;
use super::{note_of, publish_in, readable, signed_in};
use crate::auth::Auth;
use crate::entities::status::Status;
use crate::params::{Params, lenient_bool};
use crate::{ApiError, ApiState};

/// How long an `Idempotency-Key` is remembered, as in Mastodon.
const IDEMPOTENCY_WINDOW_MILLIS: i64 = 3600 * 1000;

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
    poll: Option<serde_json::Value>,
    scheduled_at: Option<String>,
}

/// The checked text fields of a status.
struct Checked {
    text: String,
    spoiler_text: String,
    sensitive: bool,
    language: Option<String>,
}

fn check(state: &ApiState, params: &StatusParams) -> Result<Checked, ApiError> {
    if params.poll.is_some() {
        return Err(ApiError::unprocessable(
            "Validation failed: Polls are not supported",
        ));
    }
    if params.scheduled_at.is_some() {
        return Err(ApiError::unprocessable(
            "Validation failed: Scheduled statuses are not supported",
        ));
    }
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
        None | Some("") => None,
        Some(code) if is_language_code(code) => Some(code.to_ascii_lowercase()),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "Validation failed: Language is not a valid ISO 639 code",
            ));
        }
    };
    Ok(Checked {
        // A content warning hides the text, so it makes the status sensitive.
        sensitive: params.sensitive.unwrap_or(false) || !spoiler_text.is_empty(),
        text,
        spoiler_text,
        language,
    })
}

/// ISO 639-1 or 639-3: two or three ASCII letters.
fn is_language_code(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphabetic())
}

fn tag_rows(state: &ApiState, tags: &[String]) -> Vec<(i64, String)> {
    tags.iter()
        .map(|name| (state.ids.next_id().as_i64(), name.clone()))
        .collect()
}

/// Local accounts among the mentioned.
fn local_ids(mentions: &[AccountRow]) -> Vec<i64> {
    mentions
        .iter()
        .filter(|a| a.domain.is_none())
        .map(|a| a.id)
        .collect()
}

/// `POST /api/v1/statuses`.
pub async fn create(
    State(state): State<ApiState>,
    auth: Auth,
    headers: HeaderMap,
    Params(params): Params<StatusParams>,
) -> Result<Json<Status>, ApiError> {
    let me = signed_in(&state, &auth, &["write:statuses"]).await?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .map(str::to_owned);
    let not_before = now_millis() - IDEMPOTENCY_WINDOW_MILLIS;
    if let Some(key) = &key {
        if let Some(done) = statuses::by_idempotency_key(&state.db, me.id, key, not_before).await? {
            return existing(&state, me.id, done).await;
        }
    }
    let checked = check(&state, &params)?;
    let visibility = match params.visibility.as_deref() {
        None | Some("") => default_visibility(&me),
        Some(v) => v
            .parse::<Visibility>()
            .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))?,
    };
    let parent = match params.in_reply_to_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => Some(readable(&state, id, me.id).await?),
        None => None,
    };
    let parent_author = match &parent {
        Some(p) => {
            accounts::find_by_id(&state.db, perch_core::id::Id::from_i64(p.account_id)).await?
        }
        None => None,
    };
    let Composed {
        html,
        mentions,
        tags,
    } = compose(&state, &checked.text).await?;

    let now = now_millis();
    let id = state.ids.next_id().as_i64();
    let layout = &state.federation.layout;
    let new = NewStatus {
        id,
        account_id: me.id,
        uri: layout.status_uri(&me.username, id),
        url: Some(layout.status_url(&me.username, id)),
        content: html,
        source_text: Some(checked.text),
        spoiler_text: checked.spoiler_text,
        sensitive: checked.sensitive,
        visibility: visibility.as_i16(),
        language: checked.language,
        local: true,
        in_reply_to_id: parent.as_ref().map(|p| p.id),
        in_reply_to_account_id: parent.as_ref().map(|p| p.account_id),
        in_reply_to_uri: parent.as_ref().map(|p| p.uri.clone()),
        reblog_of_id: None,
        created_at: now,
    };
    let mention_ids: Vec<i64> = mentions.iter().map(|a| a.id).collect();
    let media_ids = media_ids(&params)?;
    // Read before the transaction: one that waits for a second pool
    // connection can starve the pool under load.
    let attached = attachments_of(&state, &media_ids, me.id).await?;
    let mut live = vec![LiveEvent::StatusCreated(id)];
    let mut tx = state.db.begin().await?;
    statuses::insert(&mut tx, &new, &mention_ids, &tag_rows(&state, &tags)).await?;
    if !media::attach(&mut tx, me.id, id, &media_ids)
        .await?
        .is_empty()
    {
        return Err(ApiError::unprocessable(
            "Validation failed: Media attachments must be your own uploads, not used by another status",
        ));
    }
    if let Some(key) = &key {
        if !statuses::remember_idempotency_key(&mut tx, me.id, key, id, now).await? {
            // The same request, concurrently: answer with what it created.
            drop(tx);
            let done = statuses::by_idempotency_key(&state.db, me.id, key, not_before)
                .await?
                .ok_or_else(ApiError::not_found)?;
            return existing(&state, me.id, done).await;
        }
    }
    let addressed = if matches!(visibility, Visibility::Private | Visibility::Direct) {
        local_ids(&mentions)
    } else {
        Vec::new()
    };
    statuses::fan_out(
        &mut tx,
        id,
        me.id,
        visibility != Visibility::Direct,
        &addressed,
    )
    .await?;
    for account_id in local_ids(&mentions) {
        live.extend(
            notifications::notify(
                &mut tx,
                state.ids.next_id().as_i64(),
                account_id,
                me.id,
                "mention",
                Some(id),
                now,
            )
            .await?,
        );
    }
    let row = stored_row(&new);
    let mut note = note_of(&state, &row, &me, parent_author.as_ref(), &mentions, &tags);
    note.attachments = attached;
    publish_in(&state, &mut tx, Outbound::CreateStatus(Box::new(note))).await?;
    tx.commit().await?;
    state.federation.delivery_wake.notify_one();
    state.federation.bus.publish(&live).await;
    let row = statuses::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(render_one(&state, me.id, &row).await?))
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

/// The uploads about to be attached, as the Note describes them.
async fn attachments_of(
    state: &ApiState,
    media_ids: &[i64],
    owner: i64,
) -> Result<Vec<perch_core::outbound::Attachment>, ApiError> {
    let mut out = Vec::with_capacity(media_ids.len());
    for id in media_ids {
        if let Some(row) = media::find(&state.db, *id)
            .await?
            .filter(|m| m.account_id == owner)
        {
            out.push(perch_apub::notes::attachment_of(&row));
        }
    }
    Ok(out)
}

/// Locked accounts post to followers by default, as Mastodon's default
/// privacy setting for them is.
fn default_visibility(me: &AccountRow) -> Visibility {
    if me.locked {
        Visibility::Private
    } else {
        Visibility::Public
    }
}

async fn existing(state: &ApiState, viewer: i64, id: i64) -> Result<Json<Status>, ApiError> {
    let row = statuses::find_by_id(&state.db, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(render_one(state, viewer, &row).await?))
}

/// The row as stored, before it can be read back.
fn stored_row(new: &NewStatus) -> StatusRow {
    StatusRow {
        id: new.id,
        account_id: new.account_id,
        uri: new.uri.clone(),
        url: new.url.clone(),
        content: new.content.clone(),
        source_text: new.source_text.clone(),
        spoiler_text: new.spoiler_text.clone(),
        sensitive: new.sensitive,
        visibility: new.visibility,
        language: new.language.clone(),
        local: new.local,
        in_reply_to_id: new.in_reply_to_id,
        in_reply_to_account_id: new.in_reply_to_account_id,
        in_reply_to_uri: new.in_reply_to_uri.clone(),
        reblog_of_id: new.reblog_of_id,
        replies_count: 0,
        reblogs_count: 0,
        favourites_count: 0,
        created_at: new.created_at,
        edited_at: None,
        updated_at: new.created_at,
    }
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
    let current_media: Vec<MediaRow> = media::for_statuses(&state.db, &[current.id]).await?;
    let current_ids: Vec<String> = current_media.iter().map(|m| m.id.to_string()).collect();
    if !params.media_ids.is_empty() && params.media_ids != current_ids {
        return Err(ApiError::unprocessable(
            "Validation failed: Changing the attachments of a status is not supported",
        ));
    }
    let mut params = params;
    params.media_ids = current_ids;
    let checked = check(&state, &params)?;
    let Composed {
        html,
        mentions,
        tags,
    } = compose(&state, &checked.text).await?;
    let parent_author = match current.in_reply_to_account_id {
        Some(id) => accounts::find_by_id(&state.db, perch_core::id::Id::from_i64(id)).await?,
        None => None,
    };
    let now = now_millis();
    let edit = Edit {
        edit_id: state.ids.next_id().as_i64(),
        content: html.clone(),
        source_text: Some(checked.text.clone()),
        spoiler_text: checked.spoiler_text.clone(),
        sensitive: checked.sensitive,
        language: checked.language.clone(),
        edited_at: now,
    };
    let mention_ids: Vec<i64> = mentions.iter().map(|a| a.id).collect();
    let rebloggers = statuses::rebloggers(&state.db, current.id).await?;
    let mut live = vec![LiveEvent::StatusUpdated(current.id)];
    let mut tx = state.db.begin().await?;
    statuses::edit(
        &mut tx,
        &current,
        &edit,
        &mention_ids,
        &tag_rows(&state, &tags),
    )
    .await?;
    // Those who reblogged it hear of the change, as in Mastodon.
    for account_id in rebloggers {
        live.extend(
            notifications::notify(
                &mut tx,
                state.ids.next_id().as_i64(),
                account_id,
                me.id,
                "update",
                Some(current.id),
                now,
            )
            .await?,
        );
    }
    let mut row = current.clone();
    row.content = html;
    row.spoiler_text = checked.spoiler_text;
    row.sensitive = checked.sensitive;
    row.language = checked.language;
    row.edited_at = Some(now);
    let mut note = note_of(&state, &row, &me, parent_author.as_ref(), &mentions, &tags);
    note.attachments = current_media
        .iter()
        .map(perch_apub::notes::attachment_of)
        .collect();
    publish_in(&state, &mut tx, Outbound::UpdateStatus(Box::new(note))).await?;
    tx.commit().await?;
    state.federation.delivery_wake.notify_one();
    state.federation.bus.publish(&live).await;
    let row = statuses::find_by_id(&state.db, current.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(render_one(&state, me.id, &row).await?))
}
