//! Undo, received: of a Follow, a Like, an Announce or a Block, by the
//! embedded object's type or, for a bare id, by whichever stored like,
//! reblog or block has that id (a follow otherwise).

use perch_db::{blocks, favourites, statuses};
use serde::Deserialize;

use super::activity::Referenced;
use super::{InboxError, Verified, announce, block, follow, like};
use crate::ApubState;

#[derive(Debug, Deserialize)]
pub struct Undo {
    pub object: Referenced,
}

impl Undo {
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let kind = match (&self.object.kind, &self.object.id) {
            (Some(kind), _) => kind.clone(),
            (None, Some(id)) => {
                if favourites::find_by_uri(&state.db, id.as_str())
                    .await?
                    .is_some()
                {
                    "Like".to_owned()
                } else if statuses::find_by_uri(&state.db, id.as_str())
                    .await?
                    .is_some_and(|s| s.reblog_of_id.is_some())
                {
                    "Announce".to_owned()
                } else if blocks::find_block_by_uri(&state.db, id.as_str())
                    .await?
                    .is_some()
                {
                    "Block".to_owned()
                } else {
                    "Follow".to_owned()
                }
            }
            (None, None) => return Err(InboxError::Malformed("Undo of nothing".to_owned())),
        };
        match kind.as_str() {
            "Like" | "EmojiReact" => like::undo(state, from, &self.object).await,
            "Announce" => announce::undo(state, from, &self.object).await,
            "Follow" => follow::undo(state, from, &self.object).await,
            "Block" => block::undo(state, from, &self.object).await,
            other => {
                tracing::debug!(kind = other, "ignoring an Undo of a kind we do not apply");
                Ok(())
            }
        }
    }
}
