//! Flag, received: another server reports a local account (and some of its
//! statuses) to this one's moderators. The report is stored with the
//! sender (usually that server's instance actor) as the reporter. Objects
//! that are neither a local account nor one of its statuses are passed
//! over; a Flag that names no local account is acknowledged and dropped.

use perch_db::{actors, statuses};
use serde::Deserialize;
use serde_json::Value;

use super::{InboxError, Verified};
use crate::ApubState;
use crate::objects::note::id_of;

/// Most objects of a Flag looked at; the rest are passed over.
const MAX_OBJECTS: usize = perch_domain::reports::MAX_STATUSES + 1;

#[derive(Debug, Deserialize)]
pub struct Flag {
    /// The reported account and statuses: one id (or object) or a list.
    #[serde(default)]
    pub object: Value,
    /// The reporter's comment.
    #[serde(default)]
    pub content: Option<Value>,
}

impl Flag {
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let objects: Vec<String> = match &self.object {
            Value::Array(items) => items.iter().filter_map(id_of).collect::<Vec<_>>(),
            other => id_of(other).into_iter().collect(),
        }
        .into_iter()
        .take(MAX_OBJECTS)
        .map(String::from)
        .collect();
        let uris: Vec<&str> = objects.iter().map(String::as_str).collect();
        let accounts = actors::find_by_uris(&state.db, &uris).await?;
        let Some(target) = accounts
            .into_iter()
            .find(|a| a.domain.is_none() && a.actor_type != "Application")
        else {
            return Ok(());
        };
        let mut reported = Vec::new();
        for uri in objects.iter().filter(|uri| **uri != target.uri) {
            if let Some(status) = statuses::find_by_uri(&state.db, uri).await? {
                if status.account_id == target.id && status.local {
                    reported.push(status);
                }
            }
        }
        let comment = match &self.content {
            Some(Value::String(text)) => text.as_str(),
            _ => "",
        };
        let reporter = from.sender(state).await?;
        let report = perch_domain::reports::Report {
            target: &target,
            statuses: &reported,
            comment,
            category: None,
            rule_ids: &[],
            forward: false,
        };
        let received = from.received();
        perch_domain::reports::report(&state.domain, &reporter, &report, Some(&received)).await?;
        Ok(())
    }
}
