//! Mastodon's MediaAttachment entity.

use perch_db::media::MediaRow;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaAttachment {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub preview_url: Option<String>,
    pub remote_url: Option<String>,
    pub preview_remote_url: Option<String>,
    pub text_url: Option<String>,
    pub meta: Value,
    pub description: Option<String>,
    pub blurhash: Option<String>,
}

fn dimensions(width: Option<i32>, height: Option<i32>) -> Value {
    match (width, height) {
        (Some(w), Some(h)) if w > 0 && h > 0 => json!({
            "width": w,
            "height": h,
            "size": format!("{w}x{h}"),
            "aspect": f64::from(w) / f64::from(h),
        }),
        _ => Value::Null,
    }
}

pub fn media_attachment(row: &MediaRow) -> MediaAttachment {
    let mut meta = serde_json::Map::new();
    let original = dimensions(row.width, row.height);
    if !original.is_null() {
        meta.insert("original".to_owned(), original);
    }
    let small = dimensions(row.preview_width, row.preview_height);
    if !small.is_null() {
        meta.insert("small".to_owned(), small);
    }
    if let (Some(x), Some(y)) = (row.focus_x, row.focus_y) {
        meta.insert("focus".to_owned(), json!({ "x": x, "y": y }));
    }
    MediaAttachment {
        id: row.id.to_string(),
        kind: row.kind.clone(),
        url: row.url.clone(),
        preview_url: row.preview_url.clone(),
        remote_url: row.remote_url.clone(),
        preview_remote_url: None,
        text_url: None,
        meta: Value::Object(meta),
        description: row.description.clone(),
        blurhash: row.blurhash.clone(),
    }
}
