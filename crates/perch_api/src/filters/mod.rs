//! Filters through the client API, as Mastodon 4 serves them: `/api/v2/filters`
//! (filters with their keywords and statuses, see [`v2`]) and the older
//! `/api/v1/filters` (one keyword each, see [`v1`]), for the signed-in
//! account only (another's filter is not found). Changes go through
//! perch_domain's `filters`; how they apply to what is read is
//! `statuses::filtering`.
//!
//! Parameters come as JSON or as forms nested Rails' way
//! (`context[]=home`, `keywords_attributes[0][keyword]=…`); both are read
//! from one nested value here.

mod v1;
mod v2;

use axum::Router;
use axum::routing::get;
use serde_json::Value;

use crate::auth::Auth;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v2/filters", get(v2::list).post(v2::create))
        .route(
            "/api/v2/filters/{id}",
            get(v2::show)
                .put(v2::update)
                .patch(v2::update)
                .delete(v2::delete),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(v2::keywords).post(v2::add_keyword),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            get(v2::keyword)
                .put(v2::update_keyword)
                .patch(v2::update_keyword)
                .delete(v2::delete_keyword),
        )
        .route(
            "/api/v2/filters/{id}/statuses",
            get(v2::statuses).post(v2::add_status),
        )
        .route(
            "/api/v2/filters/statuses/{id}",
            get(v2::status).delete(v2::delete_status),
        )
        .route("/api/v1/filters", get(v1::list).post(v1::create))
        .route(
            "/api/v1/filters/{id}",
            get(v1::show)
                .put(v1::update)
                .patch(v1::update)
                .delete(v1::delete),
        )
}

/// The signed-in account, once the token may read filters.
fn reader(auth: &Auth) -> Result<i64, ApiError> {
    auth.require("read:filters")?;
    auth.account_id()
}

/// The signed-in account, once the token may change filters.
fn writer(auth: &Auth) -> Result<i64, ApiError> {
    auth.require("write:filters")?;
    auth.account_id()
}

/// An id in a path: anything else names nothing.
fn path_id(id: &str) -> Result<i64, ApiError> {
    id.trim().parse().map_err(|_| ApiError::not_found())
}

/// A parameter, under its name or its name with `[]` (some clients send
/// JSON keys written as form names).
fn param<'a>(params: &'a Value, name: &str) -> Option<&'a Value> {
    params
        .get(name)
        .or_else(|| params.get(format!("{name}[]")))
        .filter(|v| !v.is_null())
}

/// A text parameter (a number is its digits).
fn text(params: &Value, name: &str) -> Option<String> {
    match param(params, name)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list of texts: an array, or one text.
fn texts(params: &Value, name: &str) -> Option<Vec<String>> {
    match param(params, name)? {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|item| match item {
                    Value::String(text) => Some(text.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
        ),
        Value::String(text) => Some(vec![text.clone()]),
        _ => None,
    }
}

/// A boolean as Rails reads one.
fn flag(params: &Value, name: &str) -> Result<Option<bool>, ApiError> {
    let Some(value) = param(params, name) else {
        return Ok(None);
    };
    let invalid = || ApiError::unprocessable(format!("Validation failed: {name} is not a boolean"));
    Ok(Some(match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "on" | "yes" | "t" => true,
            "false" | "0" | "off" | "no" | "f" | "" => false,
            _ => return Err(invalid()),
        },
        _ => return Err(invalid()),
    }))
}

/// `expires_in`: absent leaves the expiry as it is; `null` or empty is
/// never; otherwise whole seconds.
fn expires_in(params: &Value) -> Result<Option<Option<i64>>, ApiError> {
    let Some(value) = params.get("expires_in") else {
        return Ok(None);
    };
    let invalid = || ApiError::unprocessable("Validation failed: Expires in is not a number");
    Ok(Some(match value {
        Value::Null => None,
        Value::Number(n) => Some(
            n.as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .ok_or_else(invalid)?,
        ),
        Value::String(text) if text.trim().is_empty() => None,
        Value::String(text) => Some(text.trim().parse().map_err(|_| invalid())?),
        _ => return Err(invalid()),
    }))
}

/// A status or keyword id in the parameters.
fn id_param(params: &Value, name: &str) -> Option<i64> {
    text(params, name).and_then(|id| id.trim().parse().ok())
}
