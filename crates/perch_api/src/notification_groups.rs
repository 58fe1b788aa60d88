//! Grouped notifications, as Mastodon 4.3 serves them: `GET
//! /api/v2/notifications` (a page of groups, paged by notification ids),
//! one group (`/api/v2/notifications/:group_key`), its dismissal and its
//! accounts, and the unread groups' count.
//!
//! Groups are read from the key each notification was stored with
//! (perch_db's `notification_groups`); this module chooses the page,
//! renders accounts and statuses in batches, and links the pages.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use perch_core::id::Id;
use perch_core::notifications::{GROUPED_TYPES, ungrouped_id, ungrouped_key};
use perch_core::role::permission;
use perch_db::notification_groups::{self, GroupSummary};
use perch_db::notifications::{self, NotificationRow, TypeFilter};
use perch_db::page::Page;
use perch_db::{accounts, statuses, users};
use serde::Deserialize;

use crate::auth::Auth;
use crate::entities::account::{Account, account_from_row};
use crate::entities::notification_group::{
    GroupParts, GroupedNotificationsResults, PagePosition, notification_group, partial_account,
};
use crate::notifications::{filter_params, type_filter, unread_limit};
use crate::pagination::{PageParams, keyed_page, link_header};
use crate::params::{Query, lenient_bool};
use crate::reports::render as report_entity;
use crate::statuses::filtering::FilterScope;
use crate::statuses::view::render_in;
use crate::{ApiError, ApiState};

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v2/notifications", get(list))
        .route("/api/v2/notifications/unread_count", get(unread_count))
        .route("/api/v2/notifications/{group_key}", get(show))
        .route("/api/v2/notifications/{group_key}/dismiss", post(dismiss))
        .route(
            "/api/v2/notifications/{group_key}/accounts",
            get(group_accounts),
        )
}

#[derive(Debug, Default, Deserialize)]
struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, rename = "types[]", alias = "types")]
    types: Vec<String>,
    #[serde(default, rename = "exclude_types[]", alias = "exclude_types")]
    exclude_types: Vec<String>,
    #[serde(default, rename = "grouped_types[]", alias = "grouped_types")]
    grouped_types: Vec<String>,
    account_id: Option<String>,
    expand_accounts: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    include_filtered: Option<bool>,
}

/// How the accounts of the groups are rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expand {
    Full,
    /// The newest account of each group in full, the others in
    /// `partial_accounts`.
    PartialAvatars,
}

impl Expand {
    fn parse(value: Option<&str>) -> Result<Expand, ApiError> {
        match value {
            None | Some("full") => Ok(Expand::Full),
            Some("partial_avatars") => Ok(Expand::PartialAvatars),
            Some(other) => Err(ApiError::bad_request(format!(
                "Invalid value for 'expand_accounts': '{other}'"
            ))),
        }
    }
}

/// The kinds a client lets be grouped: those it names that can be, or all
/// that can be when it names none.
fn grouped_types(asked: &[String]) -> Vec<String> {
    let named: Vec<String> = asked
        .iter()
        .filter(|t| GROUPED_TYPES.contains(&t.as_str()))
        .cloned()
        .collect();
    if asked.is_empty() {
        GROUPED_TYPES.iter().map(|t| (*t).to_owned()).collect()
    } else {
        named
    }
}

/// The stored keys of the heads that show as groups.
fn grouped_keys(heads: &[NotificationRow], grouped: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = heads
        .iter()
        .filter(|h| grouped.contains(&h.kind))
        .map(|h| h.group_key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// `GET /api/v2/notifications`.
async fn list(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<ListParams>,
) -> Result<Response, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let expand = Expand::parse(params.expand_accounts.as_deref())?;
    let page = params.page.page(40, 80);
    let grouped = grouped_types(&params.grouped_types);
    let (filter, heads) = match type_filter(
        &params.types,
        &params.exclude_types,
        params.account_id.as_deref(),
        params.include_filtered.unwrap_or(false),
    ) {
        Some(filter) => {
            let heads = notification_groups::heads(&state.db, me, &filter, &grouped, &page).await?;
            (filter, heads)
        }
        None => (TypeFilter::default(), Vec::new()),
    };
    // What of each group this page shows: between its first and last heads,
    // or, on the last page, all the way to the end the page runs towards.
    let bounds = heads.first().zip(heads.last()).map(|(n, o)| (n.id, o.id));
    let (lowest, highest) = match bounds {
        Some((newest, oldest)) if heads.len() as i64 >= page.limit => (oldest, newest),
        Some((_, oldest)) if page.min_id.is_some() => (oldest, i64::MAX),
        Some((newest, _)) => (i64::MIN, newest),
        None => (0, 0),
    };
    let keys = grouped_keys(&heads, &grouped);
    let summaries = notification_groups::summaries(&state.db, me, &keys, lowest, highest).await?;
    let results = build(&state, me, &heads, &grouped, &summaries, true, expand).await?;

    let mut extra = filter_params(&filter);
    if !params.grouped_types.is_empty() {
        extra.extend(grouped.iter().map(|t| format!("grouped_types[]={t}")));
    }
    if expand == Expand::PartialAvatars {
        extra.push("expand_accounts=partial_avatars".to_owned());
    }
    let base = format!("{}api/v2/notifications", state.config.public_url);
    let link = link_header(&base, &extra.join("&"), bounds, heads.len(), page.limit);
    let mut response = Json(results).into_response();
    if let Some(link) = link {
        response
            .headers_mut()
            .insert(axum::http::header::LINK, link);
    }
    Ok(response)
}

/// The groups of `heads` rendered for `me`, with the accounts and
/// statuses they name, each loaded once for the whole page. A group whose
/// status `me` may no longer read, or whose accounts are gone, is left
/// out, as the ungrouped list leaves such notifications out.
async fn build(
    state: &ApiState,
    me: i64,
    heads: &[NotificationRow],
    grouped: &[String],
    summaries: &HashMap<String, GroupSummary>,
    paged: bool,
    expand: Expand,
) -> Result<GroupedNotificationsResults, ApiError> {
    struct Plan<'a> {
        head: &'a NotificationRow,
        key: String,
        count: i64,
        most_recent_id: i64,
        samples: Vec<i64>,
        page: Option<PagePosition>,
    }
    let plans: Vec<Plan<'_>> = heads
        .iter()
        .map(|head| match summaries.get(&head.group_key) {
            Some(summary) if grouped.contains(&head.kind) => Plan {
                head,
                key: head.group_key.clone(),
                count: summary.count.max(1),
                most_recent_id: summary.most_recent_id,
                samples: summary.sample_account_ids.clone(),
                page: paged.then(|| PagePosition {
                    min_id: summary.page_min_id.unwrap_or(head.id),
                    max_id: summary.most_recent_id,
                    latest_at: summary.latest_at,
                }),
            },
            _ => Plan {
                head,
                key: ungrouped_key(head.id),
                count: 1,
                most_recent_id: head.id,
                samples: vec![head.from_account_id],
                page: paged.then_some(PagePosition {
                    min_id: head.id,
                    max_id: head.id,
                    latest_at: head.created_at,
                }),
            },
        })
        .collect();

    let mut account_ids: Vec<i64> = plans.iter().flat_map(|p| p.samples.clone()).collect();
    account_ids.sort_unstable();
    account_ids.dedup();
    let people: HashMap<i64, _> = accounts::find_many(&state.db, &account_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let emojis =
        crate::emojis::of_accounts(&state.db, &people.values().collect::<Vec<_>>()).await?;
    let rendered_accounts: HashMap<i64, Account> = people
        .iter()
        .map(|(id, row)| {
            let account = account_from_row(row, &state.config.public_url);
            (*id, crate::emojis::with_emojis(account, row, &emojis))
        })
        .collect();

    let status_ids: Vec<i64> = plans.iter().filter_map(|p| p.head.status_id).collect();
    let status_rows = statuses::find_many(&state.db, &status_ids).await?;
    // As in the v1 list: the viewer's notification filters mark a group's
    // status, and one they hide leaves its group out.
    let scope = FilterScope::timeline(perch_core::filter::FilterContext::Notifications);
    let readable: HashMap<String, _> = render_in(state, me, &status_rows, scope)
        .await?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();

    // The staff's notifications show while the viewer's role still grants
    // what they are about.
    let role = if plans.iter().any(|p| p.head.kind.starts_with("admin.")) {
        users::find_by_account_id(&state.db, me)
            .await?
            .map(|user| user.role())
    } else {
        None
    };

    let mut results = GroupedNotificationsResults {
        accounts: Vec::new(),
        partial_accounts: Vec::new(),
        statuses: Vec::new(),
        notification_groups: Vec::with_capacity(plans.len()),
    };
    let mut listed_accounts = HashSet::new();
    let mut partial_ids = Vec::new();
    let mut listed_statuses = HashSet::new();
    for plan in plans {
        let head = plan.head;
        let needed = match head.kind.as_str() {
            "admin.report" => Some(permission::MANAGE_REPORTS),
            "admin.sign_up" => Some(permission::MANAGE_USERS),
            _ => None,
        };
        if needed.is_some_and(|wanted| !role.is_some_and(|role| role.may(wanted))) {
            continue;
        }
        let samples: Vec<i64> = plan
            .samples
            .iter()
            .copied()
            .filter(|id| rendered_accounts.contains_key(id))
            .collect();
        if samples.is_empty() {
            continue;
        }
        let status = match head.status_id {
            Some(id) => match readable.get(&id.to_string()) {
                Some(status) => Some(status),
                None => continue,
            },
            None => None,
        };
        let report = match head.report_id {
            Some(id) => match report_of(state, id).await? {
                Some(report) => Some(report),
                None => continue,
            },
            None => None,
        };
        for (position, id) in samples.iter().enumerate() {
            if expand == Expand::PartialAvatars && position > 0 {
                partial_ids.push(*id);
            } else if listed_accounts.insert(*id)
                && let Some(account) = rendered_accounts.get(id)
            {
                results.accounts.push(account.clone());
            }
        }
        if let Some(status) = status
            && listed_statuses.insert(status.id.clone())
        {
            results.statuses.push(status.clone());
        }
        let parts = GroupParts {
            key: &plan.key,
            kind: &head.kind,
            count: plan.count,
            most_recent_id: plan.most_recent_id,
            sample_account_ids: &samples,
            status_id: head.status_id,
            page: plan.page,
        };
        results
            .notification_groups
            .push(notification_group(&parts, report));
    }
    for id in partial_ids {
        if listed_accounts.insert(id)
            && let Some(account) = rendered_accounts.get(&id)
        {
            results.partial_accounts.push(partial_account(account));
        }
    }
    Ok(results)
}

/// The Report entity of an `admin.report` notification, if it remains.
async fn report_of(
    state: &ApiState,
    report_id: i64,
) -> Result<Option<crate::reports::Report>, ApiError> {
    let Some(report) = perch_db::reports::find(&state.db, report_id).await? else {
        return Ok(None);
    };
    let Some(target) =
        accounts::find_by_id(&state.db, Id::from_i64(report.target_account_id)).await?
    else {
        return Ok(None);
    };
    Ok(Some(report_entity(state, &report, &target).await?))
}

/// `GET /api/v2/notifications/:group_key`: the group as it stands, in a
/// GroupedNotificationsResults of its own.
async fn show(
    State(state): State<ApiState>,
    auth: Auth,
    Path(key): Path<String>,
) -> Result<Json<GroupedNotificationsResults>, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let head = notification_groups::newest(&state.db, me, &key)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // Asked for as one notification, it shows as one.
    let grouped: Vec<String> = if ungrouped_id(&key).is_some() {
        Vec::new()
    } else {
        GROUPED_TYPES.iter().map(|t| (*t).to_owned()).collect()
    };
    let keys = grouped_keys(std::slice::from_ref(&head), &grouped);
    let summaries =
        notification_groups::summaries(&state.db, me, &keys, i64::MIN, i64::MAX).await?;
    let results = build(
        &state,
        me,
        std::slice::from_ref(&head),
        &grouped,
        &summaries,
        false,
        Expand::Full,
    )
    .await?;
    if results.notification_groups.is_empty() {
        return Err(ApiError::not_found());
    }
    Ok(Json(results))
}

/// `POST /api/v2/notifications/:group_key/dismiss`: every notification of
/// the group goes.
async fn dismiss(
    State(state): State<ApiState>,
    auth: Auth,
    Path(key): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("write:notifications")?;
    let me = auth.account_id()?;
    if !notification_groups::dismiss(&state.db, me, &key).await? {
        return Err(ApiError::not_found());
    }
    Ok(Json(serde_json::json!({})))
}

/// `GET /api/v2/notifications/:group_key/accounts`: who caused the
/// group's notifications, newest first, paged by notification ids.
async fn group_accounts(
    State(state): State<ApiState>,
    auth: Auth,
    Path(key): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let page = params.page(40, 80);
    let rows = notification_groups::members(&state.db, me, &key, &page).await?;
    let first_page = page.max_id.is_none() && page.min_id.is_none() && page.since_id.is_none();
    if rows.is_empty() && first_page {
        return Err(ApiError::not_found());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.from_account_id).collect();
    let people: HashMap<i64, _> = accounts::find_many(&state.db, &ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let emojis =
        crate::emojis::of_accounts(&state.db, &people.values().collect::<Vec<_>>()).await?;
    let mut keys = Vec::with_capacity(rows.len());
    let mut listed = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(person) = people.get(&row.from_account_id) {
            let account = account_from_row(person, &state.config.public_url);
            listed.push(crate::emojis::with_emojis(account, person, &emojis));
            keys.push(row.id);
        }
    }
    let path = format!("/api/v2/notifications/{key}/accounts");
    Ok(keyed_page(
        &state.config.public_url,
        &path,
        &keys,
        listed,
        page.limit,
    ))
}

#[derive(Debug, Default, Deserialize)]
struct UnreadParams {
    limit: Option<String>,
    #[serde(default, rename = "types[]", alias = "types")]
    types: Vec<String>,
    #[serde(default, rename = "exclude_types[]", alias = "exclude_types")]
    exclude_types: Vec<String>,
    #[serde(default, rename = "grouped_types[]", alias = "grouped_types")]
    grouped_types: Vec<String>,
    account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    include_filtered: Option<bool>,
}

/// `GET /api/v2/notifications/unread_count`: the groups with notifications
/// newer than the `notifications` marker (all of them without one), up to
/// `limit`, as `{"count": n}`.
async fn unread_count(
    State(state): State<ApiState>,
    auth: Auth,
    Query(params): Query<UnreadParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    auth.require("read:notifications")?;
    let me = auth.account_id()?;
    let limit = unread_limit(params.limit.as_deref());
    let Some(filter) = type_filter(
        &params.types,
        &params.exclude_types,
        params.account_id.as_deref(),
        params.include_filtered.unwrap_or(false),
    ) else {
        return Ok(Json(serde_json::json!({ "count": 0 })));
    };
    let read_up_to = notifications::markers(&state.db, me)
        .await?
        .into_iter()
        .find(|m| m.timeline == "notifications")
        .map(|m| m.last_read_id);
    let page = Page {
        since_id: read_up_to,
        ..Page::newest(limit)
    };
    let grouped = grouped_types(&params.grouped_types);
    let unread = notification_groups::heads(&state.db, me, &filter, &grouped, &page).await?;
    Ok(Json(serde_json::json!({ "count": unread.len() })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_types_default_to_what_can_be_grouped() {
        assert_eq!(grouped_types(&[]), ["favourite", "follow", "reblog"]);
        assert_eq!(
            grouped_types(&["favourite".to_owned(), "mention".to_owned()]),
            ["favourite"]
        );
        assert!(grouped_types(&["mention".to_owned()]).is_empty());
        assert!(Expand::parse(Some("partial_avatars")).is_ok());
        assert_eq!(
            Expand::parse(Some("some")).map_err(|e| e.status()),
            Err(axum::http::StatusCode::BAD_REQUEST)
        );
    }
}
