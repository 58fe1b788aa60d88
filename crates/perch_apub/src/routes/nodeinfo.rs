//! NodeInfo discovery and the 2.0 / 2.1 documents
//! (<https://nodeinfo.diaspora.software/>).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use perch_core::time::now_millis;
use perch_db::accounts;
use serde_json::{Value, json};

use crate::ApubState;

const MONTH_MILLIS: i64 = 30 * 24 * 3600 * 1000;
const HALF_YEAR_MILLIS: i64 = 180 * 24 * 3600 * 1000;

pub async fn discovery(State(state): State<ApubState>) -> Json<Value> {
    let base = state.config.public_url.as_str().trim_end_matches('/');
    Json(json!({
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                "href": format!("{base}/nodeinfo/2.0"),
            },
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": format!("{base}/nodeinfo/2.1"),
            },
        ]
    }))
}

pub async fn schema_2_0(State(state): State<ApubState>) -> Response {
    document(&state, "2.0").await
}

pub async fn schema_2_1(State(state): State<ApubState>) -> Response {
    document(&state, "2.1").await
}

async fn document(state: &ApubState, version: &'static str) -> Response {
    let now = now_millis();
    let month = accounts::instance_stats(&state.db, now - MONTH_MILLIS).await;
    let half_year = accounts::instance_stats(&state.db, now - HALF_YEAR_MILLIS).await;
    let (Ok(month), Ok(half_year)) = (month, half_year) else {
        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let mut software = json!({ "name": "perch", "version": env!("CARGO_PKG_VERSION") });
    if version == "2.1" {
        software["repository"] = json!("https://github.com/perch-social/perch");
        software["homepage"] = json!("https://github.com/perch-social/perch");
    }
    let body = json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": state.config.open_registrations,
        "usage": {
            "users": {
                "total": month.local_users,
                "activeMonth": month.active_users,
                "activeHalfyear": half_year.active_users,
            },
            "localPosts": month.local_statuses,
        },
        // Always present: clients that detect the server type from NodeInfo
        // crash without it.
        "metadata": {
            "nodeName": state.config.title,
            "nodeDescription": state.config.description,
        },
    });
    let profile = format!(
        "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/{version}#\""
    );
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::try_from(profile) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
