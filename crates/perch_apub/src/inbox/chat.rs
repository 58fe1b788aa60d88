//! Chat messages received: Pleroma's `ChatMessage`, and direct notes
//! addressed to one local account, land in that account's chat with the
//! sender and reach its devices like a local message.

use perch_db::accounts::AccountRow;
use perch_domain::Received;
use perch_domain::chats::Body;

use super::InboxError;
use crate::ApubState;
use crate::ingest::local_accounts_named;
use crate::objects::note::ReceivedNote;

/// Store `note` as a message from `author` to the one local account it
/// addresses; nothing when it addresses none or several. `received`
/// records the activity (`None` when the status path records it).
pub async fn receive_message(
    state: &ApubState,
    note: &ReceivedNote,
    author: &AccountRow,
    received: Option<&Received>,
) -> Result<(), InboxError> {
    let recipients = local_accounts_named(state, note).await?;
    let [recipient] = recipients.as_slice() else {
        return Ok(());
    };
    let chat = perch_domain::chats::open(&state.domain, author, recipient).await?;
    perch_domain::chats::send(
        &state.domain,
        author,
        recipient,
        &chat,
        Body::Received {
            html: &note.content,
            uri: note.id.as_str(),
            received,
        },
    )
    .await?;
    Ok(())
}
