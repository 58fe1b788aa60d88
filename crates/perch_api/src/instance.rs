//! `GET /api/v1/instance` and `GET /api/v2/instance`: what client libraries
//! read first to decide which endpoints and limits exist; and the
//! server's rules.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use perch_core::time::now_millis;
use perch_db::accounts;

use crate::entities::account::account_from_row;
use crate::entities::instance::{
    InstanceInfo, InstanceV1, InstanceV2, MediaLimits, PollLimits, Rule, instance_v1, instance_v2,
};
use crate::{ApiError, ApiState, RegistrationMode};

/// "Active this month" as Mastodon counts it: the last four weeks.
const MONTH_MILLIS: i64 = 28 * 24 * 3600 * 1000;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v1/instance", get(v1))
        .route("/api/v2/instance", get(v2))
        .route("/api/v1/instance/rules", get(rules))
        .route("/api/v1/custom_emojis", get(custom_emojis))
}

/// `GET /api/v1/custom_emojis`: this server's custom emoji, for the
/// pickers of clients (no sign-in needed, as in Mastodon).
async fn custom_emojis(
    State(state): State<ApiState>,
) -> Result<Json<Vec<crate::entities::CustomEmoji>>, ApiError> {
    Ok(Json(
        perch_db::emojis::local(&state.db)
            .await?
            .iter()
            .filter(|row| row.visible_in_picker)
            .map(crate::emojis::custom_emoji)
            .collect(),
    ))
}

/// `GET /api/v1/instance/rules`: the rules admins set, in their order.
async fn rules(State(state): State<ApiState>) -> Result<Json<Vec<Rule>>, ApiError> {
    Ok(Json(current_rules(&state).await?))
}

async fn current_rules(state: &ApiState) -> Result<Vec<Rule>, ApiError> {
    Ok(perch_db::reports::rules(&state.db)
        .await?
        .into_iter()
        .map(|row| Rule {
            id: row.id.to_string(),
            text: row.text,
            hint: row.hint,
        })
        .collect())
}

async fn v1(State(state): State<ApiState>) -> Result<Json<InstanceV1>, ApiError> {
    Ok(Json(instance_v1(&info(&state).await?)))
}

async fn v2(State(state): State<ApiState>) -> Result<Json<InstanceV2>, ApiError> {
    Ok(Json(instance_v2(&info(&state).await?)))
}

async fn info(state: &ApiState) -> Result<InstanceInfo, ApiError> {
    let config = &state.config;
    let stats = accounts::instance_stats(&state.db, now_millis() - MONTH_MILLIS).await?;
    let contact = accounts::first_admin(&state.db).await?;
    Ok(InstanceInfo {
        domain: config.domain.clone(),
        public_url: config.public_url.clone(),
        title: config.title.clone(),
        description: config.description.clone(),
        contact_email: config.contact_email.clone(),
        contact_account: contact.map(|row| account_from_row(&row, &config.public_url)),
        thumbnail_url: None,
        languages: vec!["en".to_owned()],
        registrations_open: config.registrations != RegistrationMode::Closed,
        approval_required: config.registrations == RegistrationMode::Approval,
        user_count: stats.local_users,
        status_count: stats.local_statuses,
        domain_count: stats.known_domains,
        active_month: stats.active_users,
        max_status_chars: u32::try_from(config.max_status_characters).unwrap_or(u32::MAX),
        max_media_attachments: 4,
        characters_reserved_per_url: 23,
        max_featured_tags: perch_domain::featured_tags::MAX_FEATURED_TAGS as u32,
        max_pinned_statuses: 5,
        media: MediaLimits::default(),
        polls: PollLimits::default(),
        rules: current_rules(state).await?,
        vapid_public_key: state.vapid.public_key.clone(),
    })
}
