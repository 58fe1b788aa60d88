//! Votes, received: a `Note` named after an option, answering one of our
//! `Question`s, without text. It counts as its actor's vote, with the
//! checks a local vote meets (the poll is open, the option exists, the
//! actor has not chosen it already, may see the poll and is not blocked);
//! a vote that fails them is dropped, and no vote is ever stored as a
//! reply.

use perch_db::{polls, statuses};
use perch_domain::DomainError;
use perch_domain::polls::RemoteVote;
use url::Url;

use super::{InboxError, Verified};
use crate::ApubState;
use crate::objects::note::ReceivedNote;

/// Apply `note`, a vote for the option titled `choice` of `question`.
pub(super) async fn receive_vote(
    state: &ApubState,
    note: &ReceivedNote,
    choice: &str,
    question: &Url,
    from: &Verified,
) -> Result<(), InboxError> {
    let Some(status) = statuses::find_by_uri(&state.db, question.as_str())
        .await?
        .filter(|s| s.local)
    else {
        tracing::debug!(vote = %note.id, "a vote in no poll of ours; dropped");
        return Ok(());
    };
    let Some(poll) = polls::for_status(&state.db, status.id).await? else {
        tracing::debug!(vote = %note.id, "a vote for a status without a poll; dropped");
        return Ok(());
    };
    let options = polls::options_of(&state.db, &[poll.id]).await?;
    let Some(index) = options.iter().position(|o| o.title == choice) else {
        tracing::info!(vote = %note.id, "a vote for no option of the poll; dropped");
        return Ok(());
    };
    let voter = from.sender(state).await?;
    let received = from.received();
    let vote = RemoteVote {
        uri: note.id.as_str(),
        received: &received,
    };
    match perch_domain::polls::vote(
        &state.domain,
        &status,
        &poll,
        &voter,
        &[i64::try_from(index).unwrap_or(i64::MAX)],
        Some(vote),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(DomainError::Invalid(reason)) => {
            tracing::info!(vote = %note.id, %reason, "a vote refused; dropped");
            Ok(())
        }
        Err(DomainError::NotFound) => {
            tracing::info!(vote = %note.id, "a vote in a poll its actor may not see; dropped");
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}
