//! The readers' filters on the streams, as on the REST API: a status a
//! `hide` filter of the stream's context matches does not reach that
//! reader, and one a `warn` filter matches reaches it with `filtered`
//! set. The frame is rendered once for everyone else.
//!
//! The filters of every signed-in reader of a status are read in one
//! query per status, so that a filter changed a moment ago applies to the
//! next status already.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use perch_core::filter::{Filter, FilterContext};
use perch_db::statuses::StatusRow;

use super::session::Session;
use super::streams::{Stream, event_frame};
use crate::entities::status::Status;
use crate::statuses::filtering::{results, text_of};
use crate::{ApiError, ApiState};

/// What a reader gets of a status.
pub enum Delivery {
    /// The frame everyone gets.
    Shared,
    /// A frame of its own, with `filtered` set.
    Own(Utf8Bytes),
    /// Nothing: a filter hides it.
    LeftOut,
}

/// The filters of a status's signed-in readers, and its text.
pub struct Readers<'a> {
    filters: HashMap<i64, Vec<Filter>>,
    rendered: &'a Status,
    row: &'a StatusRow,
    /// Read from the status once, when a reader has filters.
    text: String,
    now: i64,
}

impl<'a> Readers<'a> {
    /// The active filters of the accounts of `sessions`.
    pub async fn load(
        state: &ApiState,
        sessions: &[Arc<Session>],
        row: &'a StatusRow,
        rendered: &'a Status,
    ) -> Result<Readers<'a>, ApiError> {
        let accounts: Vec<i64> = sessions
            .iter()
            .filter(|s| s.grants.statuses)
            .filter_map(|s| s.account_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let now = perch_core::time::now_millis();
        let mut filters: HashMap<i64, Vec<Filter>> = HashMap::new();
        for (account, filter) in
            perch_db::filters::load(&state.db, &accounts, Some(now), None).await?
        {
            filters.entry(account).or_default().push(filter);
        }
        let text = if filters.is_empty() {
            String::new()
        } else {
            text_of(rendered)
        };
        Ok(Readers {
            filters,
            rendered,
            row,
            text,
            now,
        })
    }

    /// What `account` (`None`: nobody signed in) gets of the status as
    /// `event` on `stream`.
    pub fn delivery(
        &self,
        account: Option<i64>,
        stream: &Stream,
        event: &str,
    ) -> Result<Delivery, ApiError> {
        let (Some(filters), Some(context)) = (
            account.and_then(|a| self.filters.get(&a)),
            context_of(stream),
        ) else {
            return Ok(Delivery::Shared);
        };
        let (found, hidden) = results(
            filters,
            Some(context),
            self.now,
            self.row.id,
            self.row.reblog_of_id,
            &self.text,
        );
        if hidden {
            return Ok(Delivery::LeftOut);
        }
        if found.is_empty() {
            return Ok(Delivery::Shared);
        }
        let mut status = self.rendered.clone();
        if let Some(original) = status.reblog.as_deref_mut() {
            original.filtered.clone_from(&found);
        }
        status.filtered = found;
        let payload = serde_json::to_string(&status).map_err(|e| ApiError::internal(&e))?;
        Ok(Delivery::Own(event_frame(stream, event, &payload).into()))
    }
}

/// The filter context of the statuses of `stream`.
fn context_of(stream: &Stream) -> Option<FilterContext> {
    match stream {
        Stream::User | Stream::List(_) => Some(FilterContext::Home),
        Stream::Public
        | Stream::PublicLocal
        | Stream::PublicRemote
        | Stream::PublicMedia
        | Stream::PublicLocalMedia
        | Stream::PublicRemoteMedia
        | Stream::Hashtag(_)
        | Stream::HashtagLocal(_) => Some(FilterContext::Public),
        Stream::UserNotification => Some(FilterContext::Notifications),
        Stream::Direct => None,
    }
}
