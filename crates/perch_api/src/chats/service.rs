//! What happens when a message is sent, acknowledged, read or deleted,
//! whether through the REST API or a WebSocket frame: the change, and the
//! events every device of every local member must receive, numbered in the
//! members' event logs in the same transaction.

use perch_core::content;
use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::chats::{self, ChatRow, MessageRow, NewMessage};
use perch_db::user_events;
use serde_json::json;

use crate::entities::iso8601_millis;
use crate::{ApiError, ApiState};

/// Longest message, in characters (Pleroma's default limit).
pub const MAX_MESSAGE_CHARS: usize = 5000;
/// Longest client-chosen message id.
pub const MAX_CLIENT_ID: usize = 64;

/// A sent message, and whether this call created it (false: the client id
/// was used before and this is the earlier message).
pub struct Sent {
    pub message: MessageRow,
    pub created: bool,
}

/// The local members of a chat.
fn local_members(me: &AccountRow, other: &AccountRow) -> Vec<i64> {
    let mut members = vec![me.id];
    if other.domain.is_none() && other.id != me.id {
        members.push(other.id);
    }
    members
}

/// Plain text as the HTML a message is stored with: escaped, with links.
fn message_html(state: &ApiState, text: &str) -> String {
    let layout = &state.federation.layout;
    content::render(&content::parse(text), |_| None, |tag| layout.tag_url(tag))
}

pub async fn send(
    state: &ApiState,
    me: &AccountRow,
    other: &AccountRow,
    chat: &ChatRow,
    content: &str,
    client_id: Option<&str>,
) -> Result<Sent, ApiError> {
    let text = content.trim();
    if text.is_empty() {
        return Err(ApiError::unprocessable(
            "Validation failed: Content can't be blank",
        ));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: Content is longer than {MAX_MESSAGE_CHARS} characters"
        )));
    }
    let client_id = client_id.map(str::trim).filter(|c| !c.is_empty());
    if client_id.is_some_and(|c| c.len() > MAX_CLIENT_ID) {
        return Err(ApiError::unprocessable(format!(
            "Validation failed: the client id is longer than {MAX_CLIENT_ID} bytes"
        )));
    }
    if let Some(client_id) = client_id {
        if let Some(earlier) = chats::find_by_client_id(&state.db, me.id, client_id).await? {
            return Ok(Sent {
                message: earlier,
                created: false,
            });
        }
    }
    let now = now_millis();
    let id = state.ids.next_id().as_i64();
    let uri = state.federation.layout.chat_message_uri(&me.username, id);
    let html = message_html(state, text);
    let new = NewMessage {
        id,
        chat_id: chat.id,
        sender_id: me.id,
        client_id,
        uri: &uri,
        content: &html,
        created_at: now,
    };
    let mut tx = state.db.begin().await?;
    if !chats::insert_message(&mut tx, &new).await? {
        drop(tx);
        let earlier = match client_id {
            Some(client_id) => chats::find_by_client_id(&state.db, me.id, client_id).await?,
            None => None,
        };
        return earlier
            .map(|message| Sent {
                message,
                created: false,
            })
            .ok_or_else(|| ApiError::internal(&"a message could not be stored"));
    }
    let message = MessageRow {
        id,
        chat_id: chat.id,
        sender_id: me.id,
        client_id: client_id.map(str::to_owned),
        uri,
        content: html,
        created_at: now,
        delivered_at: None,
        seen_at: None,
    };
    let live = user_events::append_to(
        &mut tx,
        &local_members(me, other),
        "chat_message",
        &user_events::message_reference(message.chat_id, message.id),
        now,
    )
    .await?;
    if other.domain.is_some() {
        crate::chats::federation::publish_message(state, &mut tx, me, other, &message).await?;
    }
    tx.commit().await?;
    state.federation.delivery_wake.notify_one();
    state.federation.bus.publish(&live).await;
    Ok(Sent {
        message,
        created: true,
    })
}

/// Which acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Receipt {
    /// A device of the recipient has the messages.
    Delivered,
    /// The recipient read them.
    Seen,
}

/// `me` acknowledges the other member's messages up to `up_to`; both sides'
/// devices hear of what changed. Returns the messages that changed.
pub async fn acknowledge(
    state: &ApiState,
    me: &AccountRow,
    other: &AccountRow,
    chat: &ChatRow,
    up_to: i64,
    receipt: Receipt,
) -> Result<Vec<MessageRow>, ApiError> {
    let now = now_millis();
    let mut tx = state.db.begin().await?;
    let changed = match receipt {
        Receipt::Delivered => chats::mark_delivered(&mut tx, chat.id, me.id, up_to, now).await?,
        Receipt::Seen => chats::mark_seen(&mut tx, chat.id, me.id, up_to, now).await?,
    };
    if changed.is_empty() {
        return Ok(changed);
    }
    let status = match receipt {
        Receipt::Delivered => "delivered",
        Receipt::Seen => "seen",
    };
    let payload = json!({
        "chat_id": chat.id.to_string(),
        "status": status,
        "message_ids": changed.iter().map(|m| m.id.to_string()).collect::<Vec<_>>(),
        "account_id": me.id.to_string(),
        "at": iso8601_millis(now),
    })
    .to_string();
    let live = user_events::append_to(
        &mut tx,
        &local_members(me, other),
        "chat_receipt",
        &payload,
        now,
    )
    .await?;
    tx.commit().await?;
    state.federation.bus.publish(&live).await;
    Ok(changed)
}

/// The sender deletes a message; both sides' devices hear of it.
pub async fn delete(
    state: &ApiState,
    me: &AccountRow,
    other: &AccountRow,
    chat: &ChatRow,
    message: &MessageRow,
) -> Result<(), ApiError> {
    let now = now_millis();
    let payload = json!({
        "chat_id": chat.id.to_string(),
        "message_id": message.id.to_string(),
    })
    .to_string();
    let mut tx = state.db.begin().await?;
    chats::delete_message(&mut tx, message).await?;
    let live = user_events::append_to(
        &mut tx,
        &local_members(me, other),
        "chat_message_deleted",
        &payload,
        now,
    )
    .await?;
    tx.commit().await?;
    state.federation.bus.publish(&live).await;
    Ok(())
}
