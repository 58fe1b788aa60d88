//! Uploaded media on local disk: profile images stored under
//! `<data dir>/media/` and served back at `GET /media/{*path}`.
//!
//! An upload's type is decided by its bytes (the magic numbers of JPEG, PNG,
//! GIF and WebP), never by its file name or declared content type, and the
//! stored file's extension records that decision; serving maps the extension
//! back to the `Content-Type`, with `nosniff` so browsers do not second-guess
//! it. Paths are built from safe segments only and checked to stay inside
//! the media root, so a request cannot reach any other file.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{self, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;

use crate::auth::secrets::random_token;
use crate::{ApiConfig, ApiError, ApiState};

/// The largest accepted avatar or header image.
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;

/// Browsers and caches may keep a file forever: a changed image gets a new
/// random name, so a stored file never changes.
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

pub fn routes() -> Router<ApiState> {
    Router::new().route("/media/{*path}", get(serve))
}

/// The image formats we accept, recognised by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl ImageType {
    /// The format `bytes` start with, if it is one we accept.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }

    fn from_extension(extension: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Gif, Self::Webp]
            .into_iter()
            .find(|kind| kind.extension() == extension)
    }
}

/// Which profile image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileImage {
    Avatar,
    Header,
}

impl ProfileImage {
    fn folder(self) -> &'static str {
        match self {
            Self::Avatar => "avatars",
            Self::Header => "headers",
        }
    }
}

fn media_root(config: &ApiConfig) -> PathBuf {
    config.data_dir.join("media")
}

fn media_url_prefix(config: &ApiConfig) -> String {
    format!(
        "{}/media/",
        config.public_url.as_str().trim_end_matches('/')
    )
}

/// Store a profile image as `media/<avatars|headers>/<account>/<random>.<ext>`
/// and return its public URL. The file is written under a temporary name
/// and renamed, so it is never served half-written.
pub async fn store_profile_image(
    config: &ApiConfig,
    which: ProfileImage,
    account_id: i64,
    kind: ImageType,
    bytes: Bytes,
) -> Result<String, ApiError> {
    let relative = format!(
        "{}/{account_id}/{}.{}",
        which.folder(),
        random_token(),
        kind.extension()
    );
    let target = media_root(config).join(&relative);
    tokio::task::spawn_blocking(move || write_new_file(&target, &bytes))
        .await
        .map_err(|error| ApiError::internal(&error))?
        .map_err(|error| ApiError::internal(&error))?;
    Ok(format!("{}{relative}", media_url_prefix(config)))
}

/// Store an uploaded attachment (or its preview) as
/// `media/attachments/<account>/<random>.<ext>` and return its public URL.
pub async fn store_attachment(
    config: &ApiConfig,
    account_id: i64,
    kind: ImageType,
    bytes: Vec<u8>,
) -> Result<String, ApiError> {
    let relative = format!(
        "attachments/{account_id}/{}.{}",
        random_token(),
        kind.extension()
    );
    let target = media_root(config).join(&relative);
    tokio::task::spawn_blocking(move || write_new_file(&target, &bytes))
        .await
        .map_err(|error| ApiError::internal(&error))?
        .map_err(|error| ApiError::internal(&error))?;
    Ok(format!("{}{relative}", media_url_prefix(config)))
}

/// The largest custom emoji picture, as Mastodon limits them.
pub const MAX_EMOJI_BYTES: usize = 256 * 1024;

/// Why a custom emoji's picture was not stored.
#[derive(Debug, thiserror::Error)]
pub enum EmojiImageError {
    #[error("the picture is larger than {MAX_EMOJI_BYTES} bytes")]
    TooLarge,
    #[error("the picture is not a PNG, GIF, WebP or JPEG image that can be read")]
    Unreadable,
    #[error("the picture could not be stored: {0}")]
    Io(String),
}

/// Store a custom emoji's picture, without its metadata, as
/// `media/emoji/<shortcode>-<random>.<ext>`; its public URL.
pub async fn store_emoji(
    config: &ApiConfig,
    shortcode: &str,
    bytes: Vec<u8>,
) -> Result<String, EmojiImageError> {
    if bytes.len() > MAX_EMOJI_BYTES {
        return Err(EmojiImageError::TooLarge);
    }
    let kind = ImageType::sniff(&bytes).ok_or(EmojiImageError::Unreadable)?;
    let relative = format!("emoji/{shortcode}-{}.{}", random_token(), kind.extension());
    let target = media_root(config).join(&relative);
    tokio::task::spawn_blocking(move || {
        let cleaned = crate::images::clean(bytes, kind).map_err(|_| EmojiImageError::Unreadable)?;
        write_new_file(&target, &cleaned.stored).map_err(|e| EmojiImageError::Io(e.to_string()))
    })
    .await
    .map_err(|e| EmojiImageError::Io(e.to_string()))??;
    Ok(format!("{}{relative}", media_url_prefix(config)))
}

fn write_new_file(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(folder) = target.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let partial = target.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, target)
}

/// The uploaded files under the data directory, as the domain layer's
/// purge removes them.
pub struct StoredFiles<'a>(pub &'a ApiConfig);

impl perch_domain::media::MediaFiles for StoredFiles<'_> {
    async fn remove(&self, url: &str) {
        remove_stored(self.0, url).await;
    }
}

/// Delete a file we stored, given its public URL; URLs that are not ours
/// are left alone. Best effort: a file left behind wastes space only.
pub async fn remove_stored(config: &ApiConfig, url: &str) {
    let Some(relative) = url.strip_prefix(&media_url_prefix(config)) else {
        return;
    };
    let Some((path, _)) = resolve(&media_root(config), relative) else {
        return;
    };
    let removed = tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await;
    if let Ok(Err(error)) = removed {
        tracing::warn!(%error, url, "could not remove a replaced media file");
    }
}

/// The file a media path names, and its type, when every segment is plain
/// (letters, digits, `-`, `_`, and dots not at the start) and the extension
/// is an image type we store. Anything else — `..`, empty segments,
/// backslashes, encoded separators — names nothing.
fn resolve(root: &Path, relative: &str) -> Option<(PathBuf, ImageType)> {
    let mut path = root.to_path_buf();
    for segment in relative.split('/') {
        let plain = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !plain {
            return None;
        }
        path.push(segment);
    }
    let extension = relative.rsplit_once('.')?.1;
    Some((path, ImageType::from_extension(extension)?))
}

/// Read `file` if, with every symbolic link followed, it is still inside
/// `root`.
fn read_inside(root: &Path, file: &Path) -> Option<Vec<u8>> {
    let root = root.canonicalize().ok()?;
    let file = file.canonicalize().ok()?;
    if !file.starts_with(&root) || !file.is_file() {
        return None;
    }
    std::fs::read(file).ok()
}

/// `GET /media/{*path}`: a stored file, or 404.
async fn serve(
    State(state): State<ApiState>,
    path: Result<extract::Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let extract::Path(relative) = path.map_err(|_| ApiError::not_found())?;
    let root = media_root(&state.config);
    let (file, kind) = resolve(&root, &relative).ok_or_else(ApiError::not_found)?;
    let bytes = tokio::task::spawn_blocking(move || read_inside(&root, &file))
        .await
        .map_err(|error| ApiError::internal(&error))?
        .ok_or_else(ApiError::not_found)?;
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(kind.content_type()),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic_numbers_only() {
        assert_eq!(
            ImageType::sniff(b"\xFF\xD8\xFF\xE0rest"),
            Some(ImageType::Jpeg)
        );
        assert_eq!(
            ImageType::sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Some(ImageType::Png)
        );
        assert_eq!(ImageType::sniff(b"GIF89a..."), Some(ImageType::Gif));
        assert_eq!(ImageType::sniff(b"GIF87a..."), Some(ImageType::Gif));
        assert_eq!(
            ImageType::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageType::Webp)
        );
        for other in [
            &b""[..],
            b"RIFF\x10\0\0\0WAVE",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"\x89PNG",
            b"%PDF-1.7",
        ] {
            assert_eq!(ImageType::sniff(other), None, "{other:?}");
        }
    }

    #[test]
    fn resolves_plain_paths_with_image_extensions() {
        let root = Path::new("/data/media");
        let (path, kind) = resolve(root, "avatars/12/abc_D-1.png").expect("plain path");
        assert_eq!(path, Path::new("/data/media/avatars/12/abc_D-1.png"));
        assert_eq!(kind, ImageType::Png);
    }

    #[test]
    fn refuses_anything_that_could_leave_the_root() {
        let root = Path::new("/data/media");
        for bad in [
            "../secret.png",
            "avatars/../../secret.png",
            "avatars/./a.png",
            "avatars//a.png",
            "/etc/a.png",
            "avatars\\..\\a.png",
            "avatars/.hidden.png",
            "avatars/12/a.partial",
            "avatars/12/a.svg",
            "avatars/12/noextension",
            "",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
    }
}
