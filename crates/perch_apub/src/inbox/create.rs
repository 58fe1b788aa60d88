//! Create, received: a note (stored as a status when someone here has a
//! reason to see it), a chat message, or a vote in one of our polls.
//!
//! A note is wanted when a local account follows its author, it mentions or
//! addresses a local account, or it answers a local status. Replies bring
//! their parent chain (fetched, a bounded number of levels) so threads
//! assemble; a direct note to one local account is also a chat message.

use perch_core::status::Visibility;
use perch_db::accounts::AccountRow;
use perch_db::{follows, statuses};
use serde::Deserialize;
use serde_json::Value;

use super::note::note_of;
use super::{InboxError, Verified, chat, vote};
use crate::ApubState;
use crate::ingest::{local_accounts_named, store_note};
use crate::objects::note::{ReceivedNote, visibility_of, vote_of};

#[derive(Debug, Deserialize)]
pub struct Create {
    /// The note, embedded or by id.
    pub object: Value,
}

impl Create {
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let is_chat_message = self.object["type"] == "ChatMessage";
        let Some(note) = note_of(state, &self.object, from).await? else {
            return Ok(());
        };
        // A vote in a poll is a vote, never a reply or a message.
        if let Some((choice, question)) = vote_of(&note) {
            return vote::receive_vote(state, &note, choice, question, from).await;
        }
        if note.is_answer {
            tracing::debug!(answer = %note.id, "an Answer that is no vote; dropped");
            return Ok(());
        }
        let author = from.sender(state).await?;
        let received = from.received();
        if is_chat_message {
            return chat::receive_message(state, &note, &author, Some(&received)).await;
        }
        if visibility_of(&note, author.followers_url.as_deref()) == Visibility::Direct {
            // Also a chat message; the status below records the activity.
            chat::receive_message(state, &note, &author, None).await?;
        }
        if !wanted(state, &note, &author).await? {
            tracing::debug!(note = %note.id, "nobody here follows or is addressed; not stored");
            return Ok(());
        }
        store_note(state, note, &author, Some(&received), 0).await?;
        Ok(())
    }
}

/// Whether anyone here has a reason to see the note.
async fn wanted(
    state: &ApubState,
    note: &ReceivedNote,
    author: &AccountRow,
) -> Result<bool, InboxError> {
    if follows::has_local_follower(&state.db, author.id).await? {
        return Ok(true);
    }
    if !local_accounts_named(state, note).await?.is_empty() {
        return Ok(true);
    }
    if let Some(parent) = &note.in_reply_to {
        if let Some(row) = statuses::find_by_uri(&state.db, parent.as_str()).await? {
            return Ok(row.local);
        }
    }
    Ok(false)
}
