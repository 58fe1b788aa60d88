//! Media uploads: `POST /api/v2/media` (and v1), `GET`, `PUT` and
//! `DELETE /api/v1/media/:id`.
//!
//! An upload's type is decided by its bytes. It is decoded (off the async
//! runtime) with limits on its dimensions, so a small file that claims
//! enormous dimensions is refused before memory is spent on it; its
//! metadata (which can hold the place a photo was taken) is removed, see
//! [`crate::images`]; a preview of at most 400×400 and a blurhash
//! are made. Files live under the data directory and are served by
//! `media_files`.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_core::time::now_millis;
use perch_db::media::{self, MediaRow};

use crate::auth::Auth;
use crate::entities::media::{MediaAttachment, media_attachment};
use crate::images::{self, Cleaned, ProcessError, encode};
use crate::media_files::{self, ImageType};
use crate::params::Params;
use crate::{ApiError, ApiState};

/// Largest upload, as the instance documents announce.
pub const MAX_MEDIA_BYTES: usize = 16 * 1024 * 1024;
pub use crate::images::MAX_PIXELS;
/// Longest alt text, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1500;
/// The preview fits in this square.
pub const PREVIEW_SIDE: u32 = 400;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/api/v2/media",
            post(upload).layer(DefaultBodyLimit::max(MAX_MEDIA_BYTES + 1024 * 1024)),
        )
        .route(
            "/api/v1/media",
            post(upload).layer(DefaultBodyLimit::max(MAX_MEDIA_BYTES + 1024 * 1024)),
        )
        .route("/api/v1/media/{id}", get(show).put(update).delete(delete))
}

/// `focus=x,y`, each in [-1, 1].
pub fn parse_focus(text: &str) -> Option<(f64, f64)> {
    let (x, y) = text.split_once(',')?;
    let x: f64 = x.trim().parse().ok()?;
    let y: f64 = y.trim().parse().ok()?;
    ((-1.0..=1.0).contains(&x) && (-1.0..=1.0).contains(&y)).then_some((x, y))
}

/// The size of a preview of a `width`×`height` image: fitting in the
/// preview square, aspect kept, never enlarged.
pub fn preview_size(width: u32, height: u32) -> (u32, u32) {
    if width <= PREVIEW_SIDE && height <= PREVIEW_SIDE {
        return (width, height);
    }
    let scale = f64::from(PREVIEW_SIDE) / f64::from(width.max(height));
    let fit = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
    (fit(width), fit(height))
}

/// What processing an image yields.
struct Processed {
    original: Vec<u8>,
    width: u32,
    height: u32,
    preview: Vec<u8>,
    preview_type: ImageType,
    preview_width: u32,
    preview_height: u32,
    blurhash: Option<String>,
}

fn process(bytes: Vec<u8>, kind: ImageType) -> Result<Processed, ProcessError> {
    let Cleaned {
        stored: original,
        image,
    } = images::clean(bytes, kind)?;
    let (width, height) = (image.width(), image.height());
    let (preview_width, preview_height) = preview_size(width, height);
    let small = if (preview_width, preview_height) == (width, height) {
        image.clone()
    } else {
        image.thumbnail_exact(preview_width, preview_height)
    };
    let preview_type = if kind == ImageType::Jpeg {
        ImageType::Jpeg
    } else {
        ImageType::Png
    };
    let preview = encode(&small, preview_type)?;
    let tiny = small.thumbnail(32, 32).to_rgba8();
    let blurhash = blurhash::encode(4, 3, tiny.width(), tiny.height(), tiny.as_raw()).ok();
    Ok(Processed {
        original,
        width,
        height,
        preview,
        preview_type,
        preview_width,
        preview_height,
        blurhash,
    })
}

struct UploadForm {
    file: Option<Vec<u8>>,
    too_large: bool,
    description: Option<String>,
    focus: Option<String>,
}

async fn read_form(request: Request, state: &ApiState) -> Result<UploadForm, ApiError> {
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let mut form = UploadForm {
        file: None,
        too_large: false,
        description: None,
        focus: None,
    };
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::new(e.status(), e.body_text()))?
    {
        match field.name().unwrap_or_default() {
            "file" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| ApiError::new(e.status(), e.body_text()))?
                {
                    form.too_large |= bytes.len() + chunk.len() > MAX_MEDIA_BYTES;
                    if !form.too_large {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                form.file = Some(bytes);
            }
            "description" => {
                form.description = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| ApiError::new(e.status(), e.body_text()))?,
                );
            }
            "focus" => {
                form.focus = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| ApiError::new(e.status(), e.body_text()))?,
                );
            }
            _ => {}
        }
    }
    Ok(form)
}

fn check_description(description: Option<&str>) -> Result<(), ApiError> {
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: Description is too long (maximum is {MAX_DESCRIPTION_CHARS} characters)"
        )));
    }
    Ok(())
}

fn focus_of(text: Option<&str>) -> Result<Option<(f64, f64)>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => parse_focus(text).map(Some).ok_or_else(|| {
            ApiError::unprocessable("Validation failed: focus must be two numbers from -1 to 1")
        }),
    }
}

/// `POST /api/v2/media`: processed at once, so it answers 200 with the
/// attachment's URLs.
async fn upload(
    State(state): State<ApiState>,
    auth: Auth,
    request: Request,
) -> Result<Json<MediaAttachment>, ApiError> {
    auth.require("write:media")?;
    let me = auth.account_id()?;
    let form = read_form(request, &state).await?;
    if form.too_large {
        return Err(ApiError::unprocessable(
            "Validation failed: File file size must be less than 16 MB",
        ));
    }
    let bytes = form
        .file
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Validation failed: File can't be blank"))?;
    check_description(form.description.as_deref())?;
    let focus = focus_of(form.focus.as_deref())?;
    let kind = ImageType::sniff(&bytes).ok_or_else(|| {
        ApiError::unprocessable(
            "Validation failed: File content type is invalid (JPEG, PNG, GIF and WebP images are accepted)",
        )
    })?;
    let processed = state
        .image_decodes
        .run(move || process(bytes, kind))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let file_size = processed.original.len() as i64;
    let url = media_files::store_attachment(&state.config, me, kind, processed.original).await?;
    let preview_url =
        media_files::store_attachment(&state.config, me, processed.preview_type, processed.preview)
            .await?;
    let now = now_millis();
    let row = MediaRow {
        id: state.ids.next_id().as_i64(),
        account_id: me,
        status_id: None,
        kind: "image".to_owned(),
        content_type: Some(kind.content_type().to_owned()),
        url,
        preview_url: Some(preview_url),
        remote_url: None,
        file_size: Some(file_size),
        width: i32::try_from(processed.width).ok(),
        height: i32::try_from(processed.height).ok(),
        preview_width: i32::try_from(processed.preview_width).ok(),
        preview_height: i32::try_from(processed.preview_height).ok(),
        blurhash: processed.blurhash,
        description: form.description.filter(|d| !d.trim().is_empty()),
        focus_x: focus.map(|f| f.0),
        focus_y: focus.map(|f| f.1),
        created_at: now,
        updated_at: now,
    };
    media::create(&state.db, &row).await?;
    Ok(Json(media_attachment(&row)))
}

/// One's own attachment; anyone else's is "not found".
async fn own(state: &ApiState, me: i64, id: &str) -> Result<MediaRow, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    media::find(&state.db, id)
        .await?
        .filter(|m| m.account_id == me)
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/media/:id`.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<MediaAttachment>, ApiError> {
    auth.require("write:media")?;
    let me = auth.account_id()?;
    Ok(Json(media_attachment(&own(&state, me, &id).await?)))
}

#[derive(Debug, Default, serde::Deserialize)]
struct UpdateParams {
    description: Option<String>,
    focus: Option<String>,
}

/// `PUT /api/v1/media/:id`: alt text and focal point.
async fn update(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    Params(params): Params<UpdateParams>,
) -> Result<Json<MediaAttachment>, ApiError> {
    auth.require("write:media")?;
    let me = auth.account_id()?;
    let row = own(&state, me, &id).await?;
    // Once attached, an attachment changes through an edit of its status,
    // which federates; as in Mastodon.
    if row.status_id.is_some() {
        return Err(ApiError::not_found());
    }
    check_description(params.description.as_deref())?;
    let focus = focus_of(params.focus.as_deref())?;
    media::update(
        &state.db,
        row.id,
        params.description.as_deref(),
        focus,
        now_millis(),
    )
    .await?;
    let row = own(&state, me, &id).await?;
    Ok(Json(media_attachment(&row)))
}

/// `DELETE /api/v1/media/:id`: an upload no status uses yet, with its
/// files. Answers `{}`.
async fn delete(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:media")?;
    let me = auth.account_id()?;
    let row = own(&state, me, &id).await?;
    // Attached meanwhile: the status keeps it.
    if row.status_id.is_some() || !media::delete_unattached(&state.db, row.id, me).await? {
        return Err(ApiError::unprocessable(
            "Media attachment is currently used by a status",
        ));
    }
    media_files::remove_stored(&state.config, &row.url).await;
    if let Some(preview) = &row.preview_url {
        media_files::remove_stored(&state.config, preview).await;
    }
    Ok(Json(serde_json::json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_and_preview_sizes() {
        assert_eq!(parse_focus("0.5,-0.25"), Some((0.5, -0.25)));
        assert_eq!(parse_focus(" -1 , 1 "), Some((-1.0, 1.0)));
        assert_eq!(parse_focus("2,0"), None);
        assert_eq!(parse_focus("a,b"), None);
        assert_eq!(parse_focus("0.5"), None);
        assert_eq!(preview_size(300, 200), (300, 200), "never enlarged");
        assert_eq!(preview_size(1600, 900), (400, 225));
        assert_eq!(preview_size(900, 1600), (225, 400));
        assert_eq!(preview_size(10_000, 1), (400, 1));
    }
}
