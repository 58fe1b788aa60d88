//! Chats in the shape of Pleroma's chat API (`Chat`, `ChatMessage`), which
//! existing chat clients read, plus the delivery state of each message.

use perch_db::chats::MessageRow;
use serde::Serialize;

use super::account::Account;
use super::iso8601_millis;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chat {
    pub id: String,
    /// The other member.
    pub account: Account,
    /// Messages from the other member not yet seen.
    pub unread: i64,
    pub last_message: Option<ChatMessage>,
    pub updated_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub id: String,
    pub chat_id: String,
    pub account_id: String,
    /// HTML.
    pub content: String,
    pub created_at: String,
    pub emojis: Vec<super::CustomEmoji>,
    pub attachment: Option<serde_json::Value>,
    pub card: Option<serde_json::Value>,
    /// Not yet seen by the reader this was rendered for.
    pub unread: bool,
    /// The id the sender's client chose, for matching its own echo.
    pub idempotency_key: Option<String>,
    /// `sent`, `delivered` (a device of the recipient has it) or `seen`.
    pub status: &'static str,
    pub delivered_at: Option<String>,
    pub seen_at: Option<String>,
}

pub fn message_status(row: &MessageRow) -> &'static str {
    match (row.delivered_at, row.seen_at) {
        (_, Some(_)) => "seen",
        (Some(_), None) => "delivered",
        (None, None) => "sent",
    }
}

/// `row` as `reader` sees it.
pub fn chat_message(row: &MessageRow, reader: i64) -> ChatMessage {
    ChatMessage {
        id: row.id.to_string(),
        chat_id: row.chat_id.to_string(),
        account_id: row.sender_id.to_string(),
        content: row.content.clone(),
        created_at: iso8601_millis(row.created_at),
        emojis: Vec::new(),
        attachment: None,
        card: None,
        unread: row.sender_id != reader && row.seen_at.is_none(),
        idempotency_key: row.client_id.clone(),
        status: message_status(row),
        delivered_at: row.delivered_at.map(iso8601_millis),
        seen_at: row.seen_at.map(iso8601_millis),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(delivered: Option<i64>, seen: Option<i64>) -> MessageRow {
        MessageRow {
            id: 5,
            chat_id: 2,
            sender_id: 1,
            client_id: Some("c1".into()),
            uri: "https://p.example/chat/5".into(),
            content: "<p>hi</p>".into(),
            created_at: 0,
            delivered_at: delivered,
            seen_at: seen,
        }
    }

    #[test]
    fn status_follows_the_timestamps() {
        assert_eq!(chat_message(&row(None, None), 9).status, "sent");
        assert_eq!(chat_message(&row(Some(1), None), 9).status, "delivered");
        let seen = chat_message(&row(Some(1), Some(2)), 9);
        assert_eq!(seen.status, "seen");
        assert!(!seen.unread);
        assert!(chat_message(&row(None, None), 9).unread);
        assert!(
            !chat_message(&row(None, None), 1).unread,
            "one's own message is read"
        );
    }
}
