//! Request parameters the way Mastodon (Rails) takes them: from the query
//! string and from a JSON, form-urlencoded or multipart body, with array
//! parameters written `id[]=1&id[]=2`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Parameters of a POST/PUT/PATCH: body fields (JSON, form or multipart text
/// fields) merged after the query string's.
#[derive(Debug)]
pub struct Params<T>(pub T);

/// Parameters of a GET: the query string, with `name[]` arrays.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_html_form::from_str(query).map(Query).map_err(invalid)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let query = request.uri().query().unwrap_or_default().to_owned();

        if content_type.starts_with("application/json") {
            let body = Bytes::from_request(request, state)
                .await
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
            if !body.iter().all(u8::is_ascii_whitespace) {
                return serde_json::from_slice(&body).map(Params).map_err(|e| {
                    ApiError::bad_request(format!("Invalid JSON in request body: {e}"))
                });
            }
            return serde_html_form::from_str(&query)
                .map(Params)
                .map_err(invalid);
        }

        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|e| ApiError::bad_request(e.body_text()))?
            {
                // Files are taken by endpoints that accept them; here only
                // text fields count.
                if field.file_name().is_some() {
                    continue;
                }
                let name = field.name().unwrap_or_default().to_owned();
                let value = field
                    .text()
                    .await
                    .map_err(|e| ApiError::bad_request(e.body_text()))?;
                pairs.push((name, value));
            }
        } else {
            let body = Bytes::from_request(request, state)
                .await
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
            pairs.extend(url::form_urlencoded::parse(&body).into_owned());
        }
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        serde_html_form::from_str(&encoded)
            .map(Params)
            .map_err(invalid)
    }
}

fn invalid(error: impl std::fmt::Display) -> ApiError {
    ApiError::unprocessable(format!("Validation failed: {error}"))
}

/// Accepts a string or a list of strings (`redirect_uris`, `scopes`…), as
/// clients send either.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, splitting a single string on whitespace.
    pub fn into_words(self) -> Vec<String> {
        match self {
            OneOrMany::One(text) => text.split_whitespace().map(str::to_owned).collect(),
            OneOrMany::Many(list) => list
                .iter()
                .flat_map(|item| item.split_whitespace())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Booleans as Rails reads them: true/false, 1/0, on/off, yes/no.
pub fn lenient_bool<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<bool>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Flexible {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    let value: Option<Flexible> = serde::Deserialize::deserialize(de)?;
    Ok(match value {
        None => None,
        Some(Flexible::Bool(b)) => Some(b),
        Some(Flexible::Int(i)) => Some(i != 0),
        Some(Flexible::Text(t)) => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" | "t" => Some(true),
            "false" | "0" | "off" | "no" | "f" | "" => Some(false),
            _ => return Err(serde::de::Error::custom("expected a boolean")),
        },
    })
}

/// Parameters as one JSON value, whichever way they came: a JSON body as
/// it is, and a form's pairs (as [`Params`] reads them into a `Value`:
/// a list of name and value pairs) nested the way Rails nests their
/// names: `a[b]=1` is `{"a": {"b": "1"}}`, `a[]=1&a[]=2` is
/// `{"a": ["1", "2"]}`, and `a[][k]=1&a[][j]=2&a[][k]=3` is a list of two
/// objects (a name seen again starts the next one).
pub fn nested(params: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let Value::Array(pairs) = params else {
        return params;
    };
    let mut root = Value::Object(serde_json::Map::new());
    for pair in pairs {
        let Value::Array(kv) = pair else { continue };
        let [Value::String(name), value] = kv.as_slice() else {
            continue;
        };
        let segments = name_segments(name);
        insert_nested(&mut root, &segments, value.clone());
    }
    root
}

/// `a[b][]` as `["a", "b", ""]`; an empty segment is a list's next item.
fn name_segments(name: &str) -> Vec<&str> {
    let (head, mut rest) = match name.find('[') {
        Some(open) => (&name[..open], &name[open..]),
        None => (name, ""),
    };
    let mut segments = vec![head];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            break;
        };
        segments.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    segments
}

fn insert_nested(target: &mut serde_json::Value, segments: &[&str], value: serde_json::Value) {
    use serde_json::{Map, Value};
    let Some((first, rest)) = segments.split_first() else {
        *target = value;
        return;
    };
    if first.is_empty() {
        if !target.is_array() {
            *target = Value::Array(Vec::new());
        }
        let Value::Array(items) = target else { return };
        match rest.first() {
            None => items.push(value),
            Some(key) => {
                // The last object takes the key unless it has it already.
                let fits = items
                    .last()
                    .and_then(Value::as_object)
                    .is_some_and(|last| !last.contains_key(*key));
                if !fits {
                    items.push(Value::Object(Map::new()));
                }
                if let Some(last) = items.last_mut() {
                    insert_nested(last, rest, value);
                }
            }
        }
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        let slot = map.entry((*first).to_owned()).or_insert(Value::Null);
        insert_nested(slot, rest, value);
    }
}

#[cfg(test)]
mod nested_tests {
    use super::nested;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> serde_json::Value {
        json!(list.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>())
    }

    #[test]
    fn form_names_nest_as_rails_nests_them() {
        let value = nested(pairs(&[
            ("title", "Spoilers"),
            ("context[]", "home"),
            ("context[]", "public"),
            ("keywords_attributes[][keyword]", "a"),
            ("keywords_attributes[][whole_word]", "false"),
            ("keywords_attributes[][keyword]", "b"),
            ("other[0][keyword]", "c"),
            ("other[1][keyword]", "d"),
        ]));
        assert_eq!(
            value,
            json!({
                "title": "Spoilers",
                "context": ["home", "public"],
                "keywords_attributes": [
                    {"keyword": "a", "whole_word": "false"},
                    {"keyword": "b"}
                ],
                "other": {"0": {"keyword": "c"}, "1": {"keyword": "d"}},
            })
        );
    }

    #[test]
    fn json_stays_as_it_is() {
        let body = json!({"context": ["home"]});
        assert_eq!(nested(body.clone()), body);
    }
}
