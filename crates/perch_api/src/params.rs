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
