//! `PATCH /api/v1/accounts/update_credentials`: the signed-in user edits
//! their profile — display name, note, flags, metadata fields, avatar and
//! header — from a JSON, form or multipart body, as Mastodon accepts.
//!
//! The request is read in full, then validated in one place (every refused
//! field is reported at once, as Rails does), then images are stored, then
//! one transaction applies the change.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::CONTENT_TYPE;
use perch_core::id::Id;
use perch_core::status::Visibility;
use perch_db::accounts;
use perch_db::profiles::{FieldRow, ProfileUpdate};
use perch_domain::accounts as accounts_domain;
use serde::Deserialize;

use self::text::{field_value_html, note_html};
use super::credentials::credential_account_of;
use crate::auth::Auth;
use crate::entities::account::CredentialAccount;
use crate::error::FieldError;
use crate::images::{self, MAX_PIXELS, ProcessError};
use crate::media_files::{self, ImageType, MAX_IMAGE_BYTES, ProfileImage};
use crate::params::lenient_bool;
use crate::{ApiConfig, ApiError, ApiState};

mod text;

const MAX_DISPLAY_NAME_CHARS: usize = 30;
const MAX_NOTE_CHARS: usize = 500;
const MAX_FIELDS: usize = 4;
const MAX_FIELD_CHARS: usize = 255;

/// The body limit of `update_credentials`: both images at their largest,
/// plus room for the text fields and multipart framing.
pub const UPDATE_BODY_LIMIT: usize = 2 * MAX_IMAGE_BYTES + 1024 * 1024;

/// The text parameters. In forms, `fields_attributes[0][name]` keys are
/// read apart (see [`form_fields`]); in JSON they come as an array or as an
/// object keyed by index.
#[derive(Debug, Default, Deserialize)]
struct TextParams {
    display_name: Option<String>,
    note: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    discoverable: Option<bool>,
    fields_attributes: Option<JsonFields>,
    /// The posting defaults, in JSON.
    source: Option<SourceParams>,
    /// The same in forms.
    #[serde(rename = "source[privacy]")]
    source_privacy: Option<String>,
    #[serde(
        default,
        rename = "source[sensitive]",
        deserialize_with = "lenient_bool"
    )]
    source_sensitive: Option<bool>,
    #[serde(rename = "source[language]")]
    source_language: Option<String>,
}

/// `source`: what the user's new posts start with.
#[derive(Debug, Default, Deserialize)]
struct SourceParams {
    privacy: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    sensitive: Option<bool>,
    language: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum JsonFields {
    List(Vec<FieldAttributes>),
    Indexed(BTreeMap<String, FieldAttributes>),
}

#[derive(Clone, Debug, Default, Deserialize)]
struct FieldAttributes {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// An uploaded file: its bytes, or only the fact that it was too large.
#[derive(Debug)]
enum Upload {
    Bytes(Bytes),
    TooLarge,
}

/// Everything the request asked for, before validation.
#[derive(Debug, Default)]
struct UpdateRequest {
    text: TextParams,
    /// `Some` when the request set the fields (replacing all of them).
    fields: Option<Vec<FieldAttributes>>,
    avatar: Option<Upload>,
    header: Option<Upload>,
}

/// `PATCH /api/v1/accounts/update_credentials`: needs `write:accounts`.
/// Answers the updated CredentialAccount.
pub async fn update_credentials(
    State(state): State<ApiState>,
    auth: Auth,
    request: Request,
) -> Result<Json<CredentialAccount>, ApiError> {
    auth.require("write:accounts")?;
    let account_id = auth.account_id()?;
    let update = read_request(request, &state).await?;
    let mut checked = validate(update)?;
    clean_images(&state, &mut checked).await?;

    let before = accounts::find_by_id(&state.db, Id::from_i64(account_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let config = &state.config;
    let avatar_url = store_image(config, ProfileImage::Avatar, account_id, checked.avatar).await?;
    let header_url =
        match store_image(config, ProfileImage::Header, account_id, checked.header).await {
            Ok(url) => url,
            Err(error) => {
                remove_all(config, [avatar_url]).await;
                return Err(error);
            }
        };
    let change = ProfileUpdate {
        display_name: checked.display_name.as_deref(),
        note: checked
            .note
            .as_ref()
            .map(|(html, source)| (html.as_str(), source.as_str())),
        locked: checked.text.locked,
        bot: checked.text.bot,
        discoverable: checked.text.discoverable,
        fields: checked.fields.as_deref(),
        avatar_url: avatar_url.as_deref(),
        header_url: header_url.as_deref(),
        default_visibility: checked.default_visibility.map(Visibility::as_i16),
        default_sensitive: checked.default_sensitive,
        default_language: checked.default_language.as_deref(),
    };
    let applied = match accounts_domain::update_profile(&state.domain, account_id, &change).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::not_found()),
        Err(error) => Err(ApiError::from(error)),
    };
    if let Err(error) = applied {
        remove_all(config, [avatar_url, header_url]).await;
        return Err(error);
    }
    // The images just replaced are no longer referenced by anything.
    let replaced = [
        before.avatar_url.filter(|_| avatar_url.is_some()),
        before.header_url.filter(|_| header_url.is_some()),
    ];
    remove_all(config, replaced).await;
    credential_account_of(&state, account_id).await.map(Json)
}

/// Replace the uploaded avatar and header with their cleaned bytes (checked
/// as images, metadata removed: see [`crate::images`]); a file that is not
/// a readable image, or has too many pixels, refuses the request.
async fn clean_images(state: &ApiState, checked: &mut Checked) -> Result<(), ApiError> {
    let mut details: BTreeMap<String, Vec<FieldError>> = BTreeMap::new();
    for (name, slot) in [
        ("avatar", &mut checked.avatar),
        ("header", &mut checked.header),
    ] {
        let Some((kind, bytes)) = slot.take() else {
            continue;
        };
        let cleaned = state
            .image_decodes
            .run(move || images::clean(bytes.to_vec(), kind))
            .await
            .map_err(|e| ApiError::internal(&e))?;
        match cleaned {
            Ok(cleaned) => *slot = Some((kind, Bytes::from(cleaned.stored))),
            Err(error) => details
                .entry(name.to_owned())
                .or_default()
                .push(FieldError {
                    error: "ERR_INVALID",
                    description: match error {
                        ProcessError::TooManyPixels => {
                            format!("must have at most {MAX_PIXELS} pixels")
                        }
                        ProcessError::Unreadable => "could not be read as an image".to_owned(),
                    },
                }),
        }
    }
    if details.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(details))
    }
}

/// Store an uploaded image, if there is one; its public URL.
async fn store_image(
    config: &ApiConfig,
    which: ProfileImage,
    account_id: i64,
    image: Option<(ImageType, Bytes)>,
) -> Result<Option<String>, ApiError> {
    match image {
        Some((kind, bytes)) => {
            media_files::store_profile_image(config, which, account_id, kind, bytes)
                .await
                .map(Some)
        }
        None => Ok(None),
    }
}

async fn remove_all(config: &ApiConfig, urls: impl IntoIterator<Item = Option<String>>) {
    for url in urls.into_iter().flatten() {
        media_files::remove_stored(config, &url).await;
    }
}

/// Read the body as JSON, multipart or a form (with the query string's
/// parameters first, as Rails merges them).
async fn read_request(request: Request, state: &ApiState) -> Result<UpdateRequest, ApiError> {
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let mut update = UpdateRequest::default();

    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        while let Some(mut field) = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "avatar" || name == "header" {
                let mut bytes = Vec::new();
                let mut too_large = false;
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| ApiError::new(e.status(), e.body_text()))?
                {
                    too_large |= bytes.len() + chunk.len() > MAX_IMAGE_BYTES;
                    if !too_large {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                // An empty part is a client leaving the image as it is.
                let upload = match (too_large, bytes.is_empty()) {
                    (true, _) => Some(Upload::TooLarge),
                    (false, true) => None,
                    (false, false) => Some(Upload::Bytes(Bytes::from(bytes))),
                };
                if name == "avatar" {
                    update.avatar = upload;
                } else {
                    update.header = upload;
                }
                continue;
            }
            let value = field
                .text()
                .await
                .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
            pairs.push((name, value));
        }
    } else {
        let is_json = content_type.starts_with("application/json");
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        if is_json && !body.iter().all(u8::is_ascii_whitespace) {
            let mut text: TextParams = serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("Invalid JSON in request body: {e}")))?;
            update.fields = text.fields_attributes.take().map(json_fields);
            update.text = text;
            return Ok(update);
        }
        if !is_json {
            pairs.extend(url::form_urlencoded::parse(&body).into_owned());
        }
    }

    update.fields = form_fields(&pairs);
    let scalars: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(key, _)| !key.starts_with("fields_attributes"))
        .collect();
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(scalars)
        .finish();
    update.text = serde_html_form::from_str(&encoded)
        .map_err(|e| ApiError::unprocessable(format!("Validation failed: {e}")))?;
    Ok(update)
}

/// Fields from JSON: an array in order, or an object in index order.
fn json_fields(fields: JsonFields) -> Vec<FieldAttributes> {
    match fields {
        JsonFields::List(list) => list,
        JsonFields::Indexed(map) => {
            let mut entries: Vec<(String, FieldAttributes)> = map.into_iter().collect();
            entries.sort_by_key(|(index, _)| index_order(index));
            entries.into_iter().map(|(_, field)| field).collect()
        }
    }
}

/// Numeric indexes in numeric order ("2" before "10"), anything else after.
fn index_order(index: &str) -> (u64, String) {
    (index.parse().unwrap_or(u64::MAX), index.to_owned())
}

/// Fields from form keys, as Rails nests them: `fields_attributes[0][name]`
/// (grouped by index, in index order) and `fields_attributes[][name]` (a
/// new field starts whenever a key repeats). `None` when there are none.
fn form_fields(pairs: &[(String, String)]) -> Option<Vec<FieldAttributes>> {
    let mut indexed: BTreeMap<(u64, String), FieldAttributes> = BTreeMap::new();
    let mut listed: Vec<FieldAttributes> = Vec::new();
    let mut seen = false;
    for (key, value) in pairs {
        let Some(rest) = key.strip_prefix("fields_attributes[") else {
            continue;
        };
        let Some((index, rest)) = rest.split_once("][") else {
            continue;
        };
        let Some(attribute) = rest.strip_suffix(']') else {
            continue;
        };
        if attribute != "name" && attribute != "value" {
            continue;
        }
        seen = true;
        let field = if index.is_empty() {
            let repeats = listed.last().is_none_or(|last| {
                let slot = if attribute == "name" {
                    &last.name
                } else {
                    &last.value
                };
                slot.is_some()
            });
            if repeats {
                listed.push(FieldAttributes::default());
            }
            listed.last_mut()
        } else {
            Some(indexed.entry(index_order(index)).or_default())
        };
        if let Some(field) = field {
            let slot = if attribute == "name" {
                &mut field.name
            } else {
                &mut field.value
            };
            *slot = Some(value.clone());
        }
    }
    seen.then(|| indexed.into_values().chain(listed).collect())
}

/// A request that passed validation, with the note and field values
/// rendered.
struct Checked {
    text: TextParams,
    /// The posting defaults to set: a visibility, sensitivity, a language
    /// (empty: none).
    default_visibility: Option<Visibility>,
    default_sensitive: Option<bool>,
    default_language: Option<String>,
    display_name: Option<String>,
    /// HTML and source.
    note: Option<(String, String)>,
    fields: Option<Vec<FieldRow>>,
    avatar: Option<(ImageType, Bytes)>,
    header: Option<(ImageType, Bytes)>,
}

fn too_long(maximum: usize, unit: &str) -> FieldError {
    FieldError {
        error: "ERR_TOO_LONG",
        description: format!("is too long (maximum is {maximum} {unit})"),
    }
}

/// Check every limit, collecting all failures into one 422.
fn validate(mut update: UpdateRequest) -> Result<Checked, ApiError> {
    let mut details: BTreeMap<String, Vec<FieldError>> = BTreeMap::new();
    let mut refuse = |field: String, error: FieldError| {
        details.entry(field).or_default().push(error);
    };

    // Rails strips the display name and note before validating them.
    let display_name = update.text.display_name.take().map(|n| n.trim().to_owned());
    if display_name
        .as_ref()
        .is_some_and(|name| name.chars().count() > MAX_DISPLAY_NAME_CHARS)
    {
        refuse(
            "display_name".to_owned(),
            too_long(MAX_DISPLAY_NAME_CHARS, "characters"),
        );
    }
    let note = update.text.note.take().map(|n| n.trim().to_owned());
    if note
        .as_ref()
        .is_some_and(|note| note.chars().count() > MAX_NOTE_CHARS)
    {
        refuse("note".to_owned(), too_long(MAX_NOTE_CHARS, "characters"));
    }

    let fields = update.fields.map(|fields| {
        // Pairs left blank are how forms remove a field.
        let kept: Vec<(String, String)> = fields
            .into_iter()
            .map(|field| {
                let name = field.name.unwrap_or_default().trim().to_owned();
                let value = field.value.unwrap_or_default().trim().to_owned();
                (name, value)
            })
            .filter(|(name, value)| !name.is_empty() || !value.is_empty())
            .collect();
        if kept.len() > MAX_FIELDS {
            refuse("fields".to_owned(), too_long(MAX_FIELDS, "fields"));
        }
        for (index, (name, value)) in kept.iter().enumerate() {
            for (part, text) in [("name", name), ("value", value)] {
                if text.chars().count() > MAX_FIELD_CHARS {
                    refuse(
                        format!("fields.{index}.{part}"),
                        too_long(MAX_FIELD_CHARS, "characters"),
                    );
                }
            }
        }
        kept
    });

    let mut image = |name: &str, upload: Option<Upload>| match upload? {
        Upload::TooLarge => {
            refuse(
                name.to_owned(),
                FieldError {
                    error: "ERR_INVALID",
                    description: format!(
                        "must be smaller than {} MiB",
                        MAX_IMAGE_BYTES / (1024 * 1024)
                    ),
                },
            );
            None
        }
        Upload::Bytes(bytes) => match ImageType::sniff(&bytes) {
            Some(kind) => Some((kind, bytes)),
            None => {
                refuse(
                    name.to_owned(),
                    FieldError {
                        error: "ERR_INVALID",
                        description: "must be a JPEG, PNG, GIF or WebP image".to_owned(),
                    },
                );
                None
            }
        },
    };
    let avatar = image("avatar", update.avatar);
    let header = image("header", update.header);

    let source = update.text.source.take().unwrap_or_default();
    let privacy = update.text.source_privacy.take().or(source.privacy);
    // A post may be direct, but no post starts out so (Mastodon's rule).
    let default_visibility = match privacy.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => match name.parse::<Visibility>() {
            Ok(visibility) if visibility != Visibility::Direct => Some(visibility),
            _ => {
                refuse(
                    "source.privacy".to_owned(),
                    FieldError {
                        error: "ERR_INCLUSION",
                        description: "is not included in the list".to_owned(),
                    },
                );
                None
            }
        },
    };
    let default_sensitive = update.text.source_sensitive.or(source.sensitive);
    let default_language = update
        .text
        .source_language
        .take()
        .or(source.language)
        .map(|code| code.trim().to_ascii_lowercase());
    if default_language
        .as_deref()
        .is_some_and(|code| !code.is_empty() && !crate::statuses::is_language_code(code))
    {
        refuse(
            "source.language".to_owned(),
            FieldError {
                error: "ERR_INVALID",
                description: "is not a valid ISO 639 code".to_owned(),
            },
        );
    }

    if !details.is_empty() {
        return Err(ApiError::validation(details));
    }
    Ok(Checked {
        text: update.text,
        default_visibility,
        default_sensitive,
        default_language,
        display_name,
        note: note.map(|source| (note_html(&source), source)),
        fields: fields.map(|fields| {
            fields
                .into_iter()
                .map(|(name, value)| FieldRow {
                    name,
                    value: field_value_html(&value),
                    value_source: Some(value),
                    verified_at: None,
                })
                .collect()
        }),
        avatar,
        header,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn names_and_values(fields: &[FieldAttributes]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|f| {
                (
                    f.name.clone().unwrap_or_default(),
                    f.value.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn indexed_form_fields_come_in_index_order() {
        let fields = form_fields(&pairs(&[
            ("fields_attributes[10][name]", "c"),
            ("fields_attributes[2][value]", "2"),
            ("fields_attributes[2][name]", "b"),
            ("fields_attributes[10][value]", "10"),
            ("note", "ignored here"),
        ]))
        .unwrap();
        assert_eq!(
            names_and_values(&fields),
            [("b".into(), "2".into()), ("c".into(), "10".into())]
        );
    }

    #[test]
    fn bracket_list_form_fields_start_anew_when_a_key_repeats() {
        let fields = form_fields(&pairs(&[
            ("fields_attributes[][name]", "a"),
            ("fields_attributes[][value]", "1"),
            ("fields_attributes[][name]", "b"),
            ("fields_attributes[][value]", "2"),
        ]))
        .unwrap();
        assert_eq!(
            names_and_values(&fields),
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
    }

    #[test]
    fn no_field_keys_means_fields_are_left_alone() {
        assert!(form_fields(&pairs(&[("note", "x")])).is_none());
    }

    #[test]
    fn json_object_fields_follow_numeric_index_order() {
        let text: TextParams = serde_json::from_str(
            r#"{"fields_attributes": {"10": {"name": "c"}, "9": {"name": "b", "value": "v"}}}"#,
        )
        .unwrap();
        let fields = json_fields(text.fields_attributes.unwrap());
        assert_eq!(
            names_and_values(&fields),
            [("b".into(), "v".into()), ("c".into(), String::new())]
        );
    }
}
