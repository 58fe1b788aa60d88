//! Direct conversations: how a direct status, posted here or received,
//! files itself in the conversations of its local participants, and how
//! its deletion takes it out again.
//!
//! As in Mastodon, the author's conversation is read and each recipient's
//! unread; a recipient hears of it only when its mention notification was
//! stored, so blocks, mutes and muted threads keep a conversation out just
//! as they keep the notification out (the one rule, in perch_db's
//! notifications). Each change is told live to the account's `direct`
//! stream.

use perch_db::conversations::{self, Entry, participant_key};
use perch_db::live::LiveEvent;

use crate::context::Change;
use crate::error::Result;

/// A direct status about to be filed.
pub(crate) struct DirectStatus<'a> {
    pub status_id: i64,
    pub author_id: i64,
    /// Whether the author is local (and so has a conversation here).
    pub author_local: bool,
    /// Everyone it addresses, local or not, the author excepted.
    pub mentioned: &'a [i64],
    /// The local recipients whose mention notification was stored.
    pub recipients: &'a [i64],
    /// The first known status of its thread (itself when it starts one).
    pub context_id: i64,
}

/// File `status` in its local participants' conversations, in `change`.
pub(crate) async fn add_direct(change: &mut Change<'_>, status: &DirectStatus<'_>) -> Result<()> {
    let mut everyone: Vec<i64> = status.mentioned.to_vec();
    everyone.push(status.author_id);
    let author = status.author_local.then_some(status.author_id);
    for account_id in author.into_iter().chain(status.recipients.iter().copied()) {
        let others: Vec<i64> = everyone
            .iter()
            .copied()
            .filter(|id| *id != account_id)
            .collect();
        let participants = participant_key(&others);
        let new_id = change.next_id();
        let id = conversations::add_status(
            &mut change.tx,
            &Entry {
                new_id,
                account_id,
                context_id: status.context_id,
                participants: &participants,
                status_id: status.status_id,
                unread: account_id != status.author_id,
            },
        )
        .await?;
        change.live([LiveEvent::Conversation { account_id, id }]);
    }
    Ok(())
}

/// Take a status about to be deleted out of the conversations holding
/// it, in `change`; those that remain are told live.
pub(crate) async fn remove_status(change: &mut Change<'_>, status_id: i64) -> Result<()> {
    let remaining = conversations::remove_status(&mut change.tx, status_id).await?;
    change.live(
        remaining
            .into_iter()
            .map(|(account_id, id)| LiveEvent::Conversation { account_id, id }),
    );
    Ok(())
}
