//! `/.well-known/webfinger` (RFC 7033) and host-meta (RFC 6415).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use perch_db::accounts;
use serde::Deserialize;
use url::Url;

use crate::ApubState;
use crate::objects::webfinger::{Jrd, JrdLink};

#[derive(Deserialize)]
pub struct Resource {
    resource: Option<String>,
}

const JRD: &str = "application/jrd+json; charset=utf-8";

/// What a resource names, before looking it up.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    User(String),
    InstanceActor,
    Elsewhere,
}

pub async fn webfinger(State(state): State<ApubState>, Query(query): Query<Resource>) -> Response {
    let Some(resource) = query.resource.filter(|r| !r.trim().is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the resource parameter is required",
        );
    };
    let target = match parse_resource(resource.trim(), &state) {
        Ok(target) => target,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let row = match target {
        Target::User(username) => accounts::find_local_by_username(&state.db, &username).await,
        Target::InstanceActor => {
            perch_db::actors::find_by_uri(&state.db, &instance_actor_uri(&state)).await
        }
        Target::Elsewhere => Ok(None),
    };
    let row = match row {
        Ok(Some(row)) if row.deleted_at.is_some() => {
            return error(StatusCode::GONE, "this account was deleted");
        }
        Ok(Some(row)) => row,
        Ok(None) => return error(StatusCode::NOT_FOUND, "no such account here"),
        Err(e) => {
            tracing::error!(error = %e, "webfinger lookup failed");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let (Ok(actor), profile) = (
        Url::parse(&row.uri),
        row.url.as_deref().and_then(|u| Url::parse(u).ok()),
    ) else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    };
    let mut links = Vec::new();
    if let Some(profile) = &profile {
        links.push(link(
            "http://webfinger.net/rel/profile-page",
            Some("text/html"),
            Some(profile.clone()),
            None,
        ));
    }
    links.push(link(
        "self",
        Some("application/activity+json"),
        Some(actor.clone()),
        None,
    ));
    let base = state.config.public_url.as_str().trim_end_matches('/');
    links.push(link(
        "http://ostatus.org/schema/1.0/subscribe",
        None,
        None,
        Some(format!("{base}/authorize_interaction?uri={{uri}}")),
    ));
    let mut aliases: Vec<Url> = profile.into_iter().collect();
    aliases.push(actor);
    let body = Jrd {
        subject: format!("acct:{}@{}", row.username, state.config.domain),
        aliases,
        links,
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JRD));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn link(rel: &str, kind: Option<&str>, href: Option<Url>, template: Option<String>) -> JrdLink {
    JrdLink {
        rel: rel.to_owned(),
        kind: kind.map(str::to_owned),
        href,
        template,
    }
}

fn instance_actor_uri(state: &ApubState) -> String {
    state.layout.instance_actor_uri()
}

/// `acct:user@domain` (also without `acct:`), or one of our actor or
/// profile URLs.
fn parse_resource(resource: &str, state: &ApubState) -> Result<Target, &'static str> {
    let domain = state.config.domain.as_str();
    if resource.starts_with("https://") || resource.starts_with("http://") {
        let url = Url::parse(resource).map_err(|_| "the resource is not a valid URL")?;
        let ours = crate::objects::person::authority(&url).as_deref() == Some(domain);
        if !ours {
            return Ok(Target::Elsewhere);
        }
        if url.as_str() == instance_actor_uri(state) {
            return Ok(Target::InstanceActor);
        }
        let path = url.path();
        let username = path
            .strip_prefix("/users/")
            .or_else(|| path.strip_prefix("/@"))
            .filter(|name| !name.is_empty() && !name.contains('/'));
        return Ok(username.map_or(Target::Elsewhere, |name| Target::User(name.to_owned())));
    }
    let acct = resource.strip_prefix("acct:").unwrap_or(resource);
    let acct = acct.strip_prefix('@').unwrap_or(acct);
    let (user, host) = acct
        .rsplit_once('@')
        .ok_or("the resource must be acct:user@domain")?;
    if user.is_empty() || host.is_empty() || user.contains('@') {
        return Err("the resource must be acct:user@domain");
    }
    if !host.eq_ignore_ascii_case(domain) {
        return Ok(Target::Elsewhere);
    }
    if user.eq_ignore_ascii_case(domain) {
        return Ok(Target::InstanceActor);
    }
    Ok(Target::User(user.to_owned()))
}

fn error(status: StatusCode, message: &str) -> Response {
    let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// `/.well-known/host-meta`: XRD pointing at WebFinger, or JSON when asked.
pub async fn host_meta(State(state): State<ApubState>, headers: HeaderMap) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("json"));
    if wants_json {
        return host_meta_json(State(state)).await;
    }
    let template = lrdd_template(&state);
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{}\"/>\n</XRD>\n",
        perch_core::content::escape_html(&template)
    );
    (
        [
            (header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        xml,
    )
        .into_response()
}

pub async fn host_meta_json(State(state): State<ApubState>) -> Response {
    let body = serde_json::json!({
        "links": [{ "rel": "lrdd", "template": lrdd_template(&state) }]
    });
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JRD));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn lrdd_template(state: &ApubState) -> String {
    let base = state.config.public_url.as_str().trim_end_matches('/');
    format!("{base}/.well-known/webfinger?resource={{uri}}")
}
