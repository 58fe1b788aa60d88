//! Block, received, and its Undo. A remote account's block of a local one
//! is stored like a local block: the follows between them end, and from
//! then on nothing of the local account reaches the blocker here, nor
//! anything of the blocker the local account (the rule is the domain
//! layer's, `perch_domain::blocks`).

use perch_db::{actors, blocks};
use serde::Deserialize;

use super::activity::{Id, Referenced};
use super::{InboxError, Verified, account};
use crate::ApubState;

#[derive(Debug, Deserialize)]
pub struct Block {
    /// Who is blocked.
    pub object: Id,
}

impl Block {
    pub async fn receive(self, state: &ApubState, from: &Verified) -> Result<(), InboxError> {
        let target = match actors::find_by_uri(&state.db, self.object.0.as_str()).await? {
            Some(row) if row.domain.is_none() => row,
            // Not one of ours: nothing here to keep away.
            _ => return Ok(()),
        };
        let blocker = from.sender(state).await?;
        let received = from.received();
        perch_domain::blocks::block(&state.domain, &blocker, &target, Some(&received)).await?;
        Ok(())
    }
}

/// Undo of a Block: by the Block's id or, for servers that rewrite ids, by
/// the account it names. Only the blocker may undo it.
pub(super) async fn undo(
    state: &ApubState,
    from: &Verified,
    block: &Referenced,
) -> Result<(), InboxError> {
    let by_id = match &block.id {
        Some(id) => blocks::find_block_by_uri(&state.db, id.as_str()).await?,
        None => None,
    };
    let target_id = match (by_id, &block.object) {
        (Some(row), _) if row.account_id == from.actor_account_id => row.target_account_id,
        (Some(_), _) => return Ok(()),
        (None, Some(target)) => match actors::find_by_uri(&state.db, target.as_str()).await? {
            Some(row) => row.id,
            None => return Ok(()),
        },
        (None, None) => return Ok(()),
    };
    let blocker = from.sender(state).await?;
    let target = account(state, target_id).await?;
    let received = from.received();
    perch_domain::blocks::unblock(&state.domain, &blocker, &target, Some(&received)).await?;
    Ok(())
}
