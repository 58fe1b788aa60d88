//! Update, received: of a note (a new version of a stored status, or a
//! poll's new totals), or of the actor's own profile (refetched from its origin rather than trusted
//! as embedded).

use perch_core::time::now_millis;
use perch_db::polls::{self, RemoteTotals};
use perch_db::statuses;
use perch_domain::statuses::Revision;
use serde::Deserialize;
use serde_json::Value;

use super::note::note_of;
use super::{InboxError, Verified};
use crate::ApubState;
use crate::ingest::{mentioned, tags_of};
use crate::objects::note::{ReceivedNote, id_of};
use crate::objects::person::ACTOR_TYPES;
use crate::resolve;

#[derive(Debug, Deserialize)]
pub struct Update {
    /// The new version, embedded or by id.
    pub object: Value,
}

impl Update {
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let kind = self.object["type"].as_str().unwrap_or_default();
        if ACTOR_TYPES.contains(&kind) {
            if id_of(&self.object).as_ref() == Some(&from.actor) {
                resolve::fetch_actor(state, &from.actor)
                    .await
                    .map_err(|e| InboxError::fetch("cannot refresh the actor", e))?;
            }
            return Ok(());
        }
        let Some(note) = note_of(state, &self.object, from).await? else {
            return Ok(());
        };
        let Some(current) = statuses::find_by_uri(&state.db, note.id.as_str()).await? else {
            return Ok(());
        };
        if current.account_id != from.actor_account_id {
            return Err(InboxError::Forbidden(
                "the status is not the actor's".to_owned(),
            ));
        }
        let received = from.received();
        // A poll's new totals; the text goes to the history only when what
        // is shown changed too (most Updates of a Question carry only
        // totals).
        let edited = changes_what_is_shown(&current, &note);
        if let (Some(totals), Some(poll)) = (
            note.poll.as_ref(),
            polls::for_status(&state.db, current.id).await?,
        ) {
            let totals = RemoteTotals {
                options: totals.options.iter().map(|(_, votes)| *votes).collect(),
                voters_count: totals.voters_count,
                expires_at: totals.expires_at(now_millis()),
            };
            perch_domain::polls::update_remote_totals(
                &state.domain,
                &current,
                &poll,
                &totals,
                (!edited).then_some(&received),
            )
            .await?;
        }
        if !edited {
            // A server re-sending a note unchanged (as polls' vote counts
            // are sent) has not edited it: no new version, no "edited".
            return Ok(());
        }
        let author = from.sender(state).await?;
        let mentions = mentioned(state, &note).await?;
        let tags = tags_of(&note);
        perch_domain::statuses::edit(
            &state.domain,
            &current,
            &author,
            Revision {
                content: note.content,
                source_text: None,
                spoiler_text: note.spoiler_text,
                sensitive: note.sensitive,
                language: note.language,
                mentions: &mentions,
                tags: &tags,
                edited_at: note.updated,
                received: Some(&received),
            },
        )
        .await?;
        Ok(())
    }
}

/// Whether a received version differs from the stored status in what a
/// reader sees of it: its text, content warning, sensitivity or language.
fn changes_what_is_shown(current: &statuses::StatusRow, note: &ReceivedNote) -> bool {
    current.content != note.content
        || current.spoiler_text != note.spoiler_text
        || current.sensitive != note.sensitive
        || current.language != note.language
}
