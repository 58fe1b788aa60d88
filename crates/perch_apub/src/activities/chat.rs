//! A chat message to a remote account: Pleroma's `ChatMessage` (inside a
//! Create) for servers that take it, otherwise a direct `Note` mentioning
//! the recipient, which every server shows as a direct message.

use perch_core::outbound::ChatNote;
use serde_json::{Value, json};

use super::AS_CONTEXT;
use crate::objects::note::timestamp;

pub fn build_chat_create(chat: &ChatNote) -> Value {
    let recipient = &chat.recipient.uri;
    let object = if chat.as_chat_message {
        json!({
            "id": chat.uri,
            "type": "ChatMessage",
            "attributedTo": chat.sender.uri,
            "to": [recipient],
            "content": chat.content,
            "published": timestamp(chat.published),
        })
    } else {
        json!({
            "id": chat.uri,
            "type": "Note",
            "attributedTo": chat.sender.uri,
            "to": [recipient],
            "cc": [],
            "content": chat.content,
            "published": timestamp(chat.published),
            "sensitive": false,
            "tag": [{ "type": "Mention", "href": recipient, "name": chat.recipient_name }],
        })
    };
    json!({
        "@context": [AS_CONTEXT, { "ChatMessage": "http://litepub.social/ns#ChatMessage" }],
        "id": format!("{}/activity", chat.uri),
        "type": "Create",
        "actor": chat.sender.uri,
        "to": [recipient],
        "published": timestamp(chat.published),
        "object": object,
    })
}
