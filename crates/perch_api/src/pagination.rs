//! Mastodon's pagination: `max_id` / `since_id` / `min_id` / `limit` in, a
//! `Link` header out (`rel="next"` for older items, `rel="prev"` for newer),
//! which clients follow rather than building URLs themselves.

use axum::Json;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use perch_db::page::Page;
use serde::{Deserialize, Serialize};

/// The paging parameters of a list endpoint. Ids that do not parse are
/// ignored, as Mastodon ignores them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PageParams {
    max_id: Option<String>,
    since_id: Option<String>,
    min_id: Option<String>,
    limit: Option<String>,
}

impl PageParams {
    /// The page asked for, with `limit` defaulting to `default` and capped
    /// at `max`.
    pub fn page(&self, default: i64, max: i64) -> Page {
        let id = |v: &Option<String>| v.as_deref().and_then(|s| s.parse::<i64>().ok());
        let limit = self
            .limit
            .as_deref()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(default)
            .clamp(1, max);
        Page {
            max_id: id(&self.max_id),
            since_id: id(&self.since_id),
            min_id: id(&self.min_id),
            limit,
        }
    }
}

/// The `Link` header of a page whose items have the pagination ids
/// `newest` … `oldest`. `base` is the endpoint's absolute URL and `extra`
/// the other query parameters to keep (already encoded, `&`-joined, may be
/// empty). `next` is offered only when the page is full.
pub fn link_header(
    base: &str,
    extra: &str,
    bounds: Option<(i64, i64)>,
    count: usize,
    limit: i64,
) -> Option<HeaderValue> {
    let (newest, oldest) = bounds?;
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("{extra}&")
    };
    let mut links = Vec::new();
    if count as i64 >= limit {
        links.push(format!(
            "<{base}?{extra}limit={limit}&max_id={oldest}>; rel=\"next\""
        ));
    }
    links.push(format!(
        "<{base}?{extra}limit={limit}&min_id={newest}>; rel=\"prev\""
    ));
    HeaderValue::try_from(links.join(", ")).ok()
}

/// A page of `items` keyed by `keys` (the pagination ids, newest first, one
/// per item) at `path` of this server, as JSON with its `Link` header.
pub fn keyed_page<T: Serialize>(
    public_url: &url::Url,
    path: &str,
    keys: &[i64],
    items: Vec<T>,
    limit: i64,
) -> Response {
    let base = format!("{}{path}", public_url.as_str().trim_end_matches('/'));
    let bounds = keys.first().zip(keys.last()).map(|(n, o)| (*n, *o));
    let link = link_header(&base, "", bounds, keys.len(), limit);
    paged_json(items, link)
}

/// A JSON list with its `Link` header.
pub fn paged_json<T: Serialize>(items: Vec<T>, link: Option<HeaderValue>) -> Response {
    let mut response = Json(items).into_response();
    if let Some(link) = link {
        response
            .headers_mut()
            .insert(axum::http::header::LINK, link);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links() {
        let full =
            link_header("https://p.example/api/v1/x", "", Some((9, 5)), 2, 2).expect("header");
        assert_eq!(
            full.to_str().expect("ascii"),
            "<https://p.example/api/v1/x?limit=2&max_id=5>; rel=\"next\", \
             <https://p.example/api/v1/x?limit=2&min_id=9>; rel=\"prev\""
        );
        let partial =
            link_header("https://p.example/x", "local=true", Some((9, 9)), 1, 20).expect("header");
        assert_eq!(
            partial.to_str().expect("ascii"),
            "<https://p.example/x?local=true&limit=20&min_id=9>; rel=\"prev\""
        );
        assert!(link_header("https://p.example/x", "", None, 0, 20).is_none());
    }

    #[test]
    fn limits_are_clamped_and_bad_ids_ignored() {
        let params = PageParams {
            max_id: Some("abc".into()),
            limit: Some("1000".into()),
            ..PageParams::default()
        };
        let page = params.page(20, 40);
        assert_eq!(page.limit, 40);
        assert_eq!(page.max_id, None);
    }
}
