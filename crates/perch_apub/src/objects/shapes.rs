//! Lenient readers of the shapes one property may take across servers.
//!
//! ActivityStreams lets most properties be one value or an array, a link
//! (a URL, or a `Link` object with `href`) or an embedded object with an
//! `id`, or be absent. Servers use every one of these forms. The readers
//! here take each form, skip an element they cannot read instead of failing
//! the whole document, and never decide whether something is trusted:
//! origin checks are made by the callers, on what these return.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

/// The elements of a value that is one element, an array of them, or
/// absent.
pub fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The id of a value that is an id, an object with one, or an array of
/// either (the first usable one).
pub fn id_of(value: &Value) -> Option<Url> {
    match value {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        Value::Array(items) => items.iter().find_map(id_of),
        _ => None,
    }
}

/// One link of a `url`-like property: a URL, or a `Link` (or any object)
/// with `href` (or, as some servers write an embedded object, `url`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub href: Url,
    pub media_type: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

fn link(value: &Value) -> Option<Link> {
    match value {
        Value::String(s) => Url::parse(s).ok().map(|href| Link {
            href,
            media_type: None,
            width: None,
            height: None,
        }),
        Value::Object(o) => {
            let href = o
                .get("href")
                .or_else(|| o.get("url").filter(|u| u.is_string()))
                .and_then(Value::as_str)
                .and_then(|s| Url::parse(s).ok())?;
            Some(Link {
                href,
                // Funkwhale long wrote `mimeType`.
                media_type: o
                    .get("mediaType")
                    .or_else(|| o.get("mimeType"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                width: o.get("width").and_then(Value::as_i64),
                height: o.get("height").and_then(Value::as_i64),
            })
        }
        _ => None,
    }
}

/// Every readable link of a value that is one link or an array of them
/// (PeerTube nests the files of a stream in its `Link`'s `tag`).
pub fn links(value: &Value) -> Vec<Link> {
    let mut found = Vec::new();
    for item in items(value) {
        if let Some(link) = link(item) {
            found.push(link);
        }
        if let Some(nested) = item.get("tag") {
            found.extend(
                items(nested)
                    .into_iter()
                    .filter(|t| t.get("href").is_some())
                    .filter_map(link),
            );
        }
    }
    found
}

/// The page a `url` property points readers to: the `text/html` link when
/// it names one, else the first link without a media type, else the
/// first link.
pub fn page_url(value: &Value) -> Option<Url> {
    let all = links(value);
    let html = all
        .iter()
        .find(|l| l.media_type.as_deref().is_some_and(is_html));
    let untyped = all.iter().find(|l| l.media_type.is_none());
    html.or(untyped).or(all.first()).map(|l| l.href.clone())
}

fn is_html(media_type: &str) -> bool {
    media_type.starts_with("text/html")
}

/// The picture an `icon` or `image` property shows: a URL, an `Image`
/// (whose `url` is itself a URL, a `Link` or an array of them), or an
/// array of either. The largest when sizes are given, else the first
/// usable one. Links to pages (`text/html`) are not pictures.
pub fn best_image(value: &Value) -> Option<Link> {
    let mut candidates = Vec::new();
    for item in items(value) {
        match item {
            Value::String(_) => candidates.extend(link(item)),
            Value::Object(o) => {
                let declared = o.get("mediaType").and_then(Value::as_str);
                let width = o.get("width").and_then(Value::as_i64);
                let height = o.get("height").and_then(Value::as_i64);
                let url = o.get("url").or_else(|| o.get("href"));
                let picked = url.map(links).unwrap_or_default().into_iter().find(|l| {
                    !l.media_type.as_deref().is_some_and(is_html) && !declared.is_some_and(is_html)
                });
                if let Some(mut picked) = picked {
                    picked.media_type = picked.media_type.or(declared.map(str::to_owned));
                    picked.width = picked.width.or(width);
                    picked.height = picked.height.or(height);
                    candidates.push(picked);
                }
            }
            _ => {}
        }
    }
    let area = |l: &Link| l.width.unwrap_or(0).saturating_mul(l.height.unwrap_or(0));
    // The first of the largest: `max_by_key` would keep the last.
    let mut best: Option<Link> = None;
    for candidate in candidates {
        if best.as_ref().is_none_or(|b| area(&candidate) > area(b)) {
            best = Some(candidate);
        }
    }
    best
}

/// A serde adapter: the field as `T` when it reads as one, else `None`,
/// so that an unexpected shape of an optional property costs that
/// property only, never the document.
pub fn lenient<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// A serde adapter for a URL property that may be a URL or an embedded
/// object with an `id` (a collection, say), or an array of them.
pub fn lenient_id<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Url>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(id_of(&value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn images_in_every_shape() {
        let url = |v: Value| best_image(&v).map(|l| l.href.to_string());
        assert_eq!(
            url(json!("https://a.example/a.png")).as_deref(),
            Some("https://a.example/a.png")
        );
        assert_eq!(
            url(json!({"type": "Image", "url": "https://a.example/a.png"})).as_deref(),
            Some("https://a.example/a.png")
        );
        // PeerTube: several sizes; the largest wins.
        assert_eq!(
            url(json!([
                {"type": "Image", "url": "https://a.example/s.jpg", "width": 48, "height": 48},
                {"type": "Image", "url": "https://a.example/l.jpg", "width": 600, "height": 600},
                {"type": "Image", "url": "https://a.example/m.jpg", "width": 120, "height": 120}
            ]))
            .as_deref(),
            Some("https://a.example/l.jpg")
        );
        // An Image whose url is a list of Links, one of them a page.
        assert_eq!(
            url(json!({"type": "Image", "url": [
                {"type": "Link", "mediaType": "text/html", "href": "https://a.example/page"},
                {"type": "Link", "mediaType": "image/png", "href": "https://a.example/a.png"}
            ]}))
            .as_deref(),
            Some("https://a.example/a.png")
        );
        // Bad elements are skipped; nothing usable is nothing.
        assert_eq!(
            url(json!([42, {"type": "Image"}, "https://a.example/b.png"])).as_deref(),
            Some("https://a.example/b.png")
        );
        assert_eq!(url(json!({"type": "Image", "url": 3})), None);
        assert_eq!(url(Value::Null), None);
    }

    #[test]
    fn pages_prefer_html() {
        let page = |v: Value| page_url(&v).map(String::from);
        assert_eq!(
            page(json!([
                {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://a.example/p.m3u8"},
                {"type": "Link", "mediaType": "text/html", "href": "https://a.example/w/1"}
            ]))
            .as_deref(),
            Some("https://a.example/w/1")
        );
        assert_eq!(
            page(json!({"type": "Link", "href": "https://a.example/@a"})).as_deref(),
            Some("https://a.example/@a")
        );
        assert_eq!(page(json!(["not a url", 1])), None);
    }

    #[test]
    fn nested_stream_files_are_links_too() {
        let found = links(&json!([{
            "type": "Link",
            "mediaType": "application/x-mpegURL",
            "href": "https://a.example/master.m3u8",
            "tag": [
                {"type": "Infohash", "name": "abc"},
                {"type": "Link", "mediaType": "video/mp4", "href": "https://a.example/720.mp4", "height": 720}
            ]
        }]));
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].height, Some(720));
    }
}
