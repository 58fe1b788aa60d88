//! A chat message to a remote member goes out through the federation
//! layer, in the transaction that stores it.

use perch_apub::publish::actor_ref;
use perch_core::outbound::{ChatNote, Outbound};
use perch_db::accounts::AccountRow;
use perch_db::chats::MessageRow;

use crate::{ApiError, ApiState};

pub async fn publish_message(
    state: &ApiState,
    tx: &mut perch_db::Tx,
    me: &AccountRow,
    other: &AccountRow,
    message: &MessageRow,
) -> Result<(), ApiError> {
    let domain = other.domain.as_deref().unwrap_or(&state.config.domain);
    let note = ChatNote {
        uri: message.uri.clone(),
        sender: actor_ref(me),
        recipient: actor_ref(other),
        recipient_name: format!("@{}@{domain}", other.username),
        content: message.content.clone(),
        published: message.created_at,
        as_chat_message: other.accepts_chat_messages,
    };
    crate::statuses::publish_in(state, tx, Outbound::ChatMessage(Box::new(note))).await
}
