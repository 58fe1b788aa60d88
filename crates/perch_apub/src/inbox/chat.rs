//! Chat messages received: Pleroma's `ChatMessage`, and direct notes
//! addressed to one local account, land in that account's chat with the
//! sender and reach its devices like a local message.

use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::actors;
use perch_db::chats::{self, NewMessage};
use perch_db::user_events;

use super::note::local_accounts_named;
use super::{InboxError, Verified};
use crate::ApubState;
use crate::objects::note::ReceivedNote;

/// Store `note` as a message from `author` to the one local account it
/// addresses; nothing when it addresses none or several. `record` stores
/// the activity id for deduplication (false when the status path does).
pub async fn receive_message(
    state: &ApubState,
    note: &ReceivedNote,
    author: &AccountRow,
    activity: &Verified,
    record: bool,
) -> Result<(), InboxError> {
    let recipients = local_accounts_named(state, note).await?;
    let [recipient] = recipients.as_slice() else {
        return Ok(());
    };
    if chats::find_message_by_uri(&state.db, note.id.as_str())
        .await?
        .is_some()
    {
        return Ok(());
    }
    let now = now_millis();
    let chat = chats::find_or_create(
        &state.db,
        state.ids.next_id().as_i64(),
        author.id,
        recipient.id,
        now,
    )
    .await?;
    let id = state.ids.next_id().as_i64();
    let uri = note.id.to_string();
    let mut tx = state.db.begin().await?;
    if record && !actors::record_received(&mut tx, activity.id.as_str(), author.id, now).await? {
        return Ok(());
    }
    let new = NewMessage {
        id,
        chat_id: chat.id,
        sender_id: author.id,
        client_id: None,
        uri: &uri,
        content: &note.content,
        created_at: now,
    };
    if !chats::insert_message(&mut tx, &new).await? {
        return Ok(());
    }
    let reference = user_events::message_reference(chat.id, id);
    let live =
        user_events::append_to(&mut tx, &[recipient.id], "chat_message", &reference, now).await?;
    tx.commit().await?;
    state.bus.publish(&live).await;
    Ok(())
}
