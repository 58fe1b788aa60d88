//! One-to-one chats and their messages, with each message's delivery state
//! (sent → delivered → seen) and each member's read position.

use perch_core::time::UnixMillis;

use crate::page::Page;
use crate::{Db, Result, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChatRow {
    pub id: i64,
    pub account_low: i64,
    pub account_high: i64,
    pub last_message_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ChatRow {
    /// The member that is not `me`.
    pub fn other(&self, me: i64) -> i64 {
        if self.account_low == me {
            self.account_high
        } else {
            self.account_low
        }
    }

    pub fn has_member(&self, account_id: i64) -> bool {
        self.account_low == account_id || self.account_high == account_id
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub chat_id: i64,
    pub sender_id: i64,
    pub client_id: Option<String>,
    pub uri: String,
    pub content: String,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub seen_at: Option<i64>,
}

/// The chat of two accounts, created when it does not exist yet.
pub async fn find_or_create(
    db: &Db,
    new_id: i64,
    a: i64,
    b: i64,
    now: UnixMillis,
) -> Result<ChatRow> {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO chats (id, account_low, account_high, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (account_low, account_high) DO NOTHING",
        )
        .bind(new_id)
        .bind(low)
        .bind(high)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_low, account_high, last_message_id, created_at, updated_at \
             FROM chats WHERE account_low = $1 AND account_high = $2",
        )
        .bind(low)
        .bind(high)
        .fetch_one(pool)
        .await?
    }))
}

pub async fn find(db: &Db, id: i64) -> Result<Option<ChatRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_low, account_high, last_message_id, created_at, updated_at \
             FROM chats WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// `account_id`'s chats that have messages, most recently active first.
pub async fn list(db: &Db, account_id: i64, page: &Page) -> Result<Vec<ChatRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    let rows = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_low, account_high, last_message_id, created_at, updated_at \
             FROM chats WHERE (account_low = $1 OR account_high = $1) \
             AND last_message_id IS NOT NULL AND last_message_id > $2 AND last_message_id < $3 \
             ORDER BY last_message_id DESC LIMIT $4",
        )
        .bind(account_id)
        .bind(lower)
        .bind(upper)
        .bind(page.limit)
        .fetch_all(pool)
        .await?
    });
    Ok(rows)
}

/// A message to store.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub id: i64,
    pub chat_id: i64,
    pub sender_id: i64,
    pub client_id: Option<&'a str>,
    pub uri: &'a str,
    pub content: &'a str,
    pub created_at: UnixMillis,
}

/// Store a message; false when the sender used this client id (or the
/// message's URI) before, so nothing new was created.
pub async fn insert_message(tx: &mut Tx, new: &NewMessage<'_>) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        let inserted = sqlx::query(
            "INSERT INTO chat_messages (id, chat_id, sender_id, client_id, uri, content, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(new.id)
        .bind(new.chat_id)
        .bind(new.sender_id)
        .bind(new.client_id)
        .bind(new.uri)
        .bind(new.content)
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted == 1 {
            sqlx::query("UPDATE chats SET last_message_id = $1, updated_at = $2 WHERE id = $3")
                .bind(new.id)
                .bind(new.created_at)
                .bind(new.chat_id)
                .execute(&mut *conn)
                .await?;
        }
        inserted
    });
    Ok(inserted == 1)
}

pub async fn find_message(db: &Db, id: i64) -> Result<Option<MessageRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, chat_id, sender_id, client_id, uri, content, created_at, delivered_at, \
             seen_at FROM chat_messages WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    }))
}

/// The messages with these ids that exist, in no particular order.
pub async fn find_messages(db: &Db, ids: &[i64]) -> Result<Vec<MessageRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        ids,
        query_as,
        "SELECT id, chat_id, sender_id, client_id, uri, content, created_at, delivered_at, \
         seen_at FROM chat_messages WHERE id",
        ""
    ))
}

/// The sender's message with this client id.
pub async fn find_by_client_id(
    db: &Db,
    sender_id: i64,
    client_id: &str,
) -> Result<Option<MessageRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, chat_id, sender_id, client_id, uri, content, created_at, delivered_at, \
             seen_at FROM chat_messages WHERE sender_id = $1 AND client_id = $2",
        )
        .bind(sender_id)
        .bind(client_id)
        .fetch_optional(pool)
        .await?
    }))
}

pub async fn find_message_by_uri(db: &Db, uri: &str) -> Result<Option<MessageRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, chat_id, sender_id, client_id, uri, content, created_at, delivered_at, \
             seen_at FROM chat_messages WHERE uri = $1",
        )
        .bind(uri)
        .fetch_optional(pool)
        .await?
    }))
}

/// A page of a chat's messages, newest first.
pub async fn messages(db: &Db, chat_id: i64, page: &Page) -> Result<Vec<MessageRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    let rows = on_db!(db, pool => {
        if page.ascending() {
            sqlx::query_as(
                "SELECT id, chat_id, sender_id, client_id, uri, content, created_at, \
                 delivered_at, seen_at FROM chat_messages \
                 WHERE chat_id = $1 AND id > $2 AND id < $3 ORDER BY id ASC LIMIT $4",
            )
            .bind(chat_id).bind(lower).bind(upper).bind(page.limit)
            .fetch_all(pool).await?
        } else {
            sqlx::query_as(
                "SELECT id, chat_id, sender_id, client_id, uri, content, created_at, \
                 delivered_at, seen_at FROM chat_messages \
                 WHERE chat_id = $1 AND id > $2 AND id < $3 ORDER BY id DESC LIMIT $4",
            )
            .bind(chat_id).bind(lower).bind(upper).bind(page.limit)
            .fetch_all(pool).await?
        }
    });
    Ok(page.finish(rows))
}

/// Messages in the chat not sent by `reader` and not yet seen.
pub async fn unread_count(db: &Db, chat_id: i64, reader: i64) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM chat_messages \
             WHERE chat_id = $1 AND sender_id <> $2 AND seen_at IS NULL",
        )
        .bind(chat_id)
        .bind(reader)
        .fetch_one(pool)
        .await?
    }))
}

/// Mark `recipient`'s unacknowledged messages up to `up_to` delivered;
/// returns the messages that changed.
pub async fn mark_delivered(
    tx: &mut Tx,
    chat_id: i64,
    recipient: i64,
    up_to: i64,
    now: UnixMillis,
) -> Result<Vec<MessageRow>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE chat_messages SET delivered_at = $1 \
             WHERE chat_id = $2 AND sender_id <> $3 AND id <= $4 AND delivered_at IS NULL \
             RETURNING id, chat_id, sender_id, client_id, uri, content, created_at, \
             delivered_at, seen_at",
        )
        .bind(now)
        .bind(chat_id)
        .bind(recipient)
        .bind(up_to)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// Mark `reader`'s unseen messages up to `up_to` seen (and delivered, if
/// no device said so before); returns the messages that changed.
pub async fn mark_seen(
    tx: &mut Tx,
    chat_id: i64,
    reader: i64,
    up_to: i64,
    now: UnixMillis,
) -> Result<Vec<MessageRow>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE chat_messages SET seen_at = $1, delivered_at = COALESCE(delivered_at, $1) \
             WHERE chat_id = $2 AND sender_id <> $3 AND id <= $4 AND seen_at IS NULL \
             RETURNING id, chat_id, sender_id, client_id, uri, content, created_at, \
             delivered_at, seen_at",
        )
        .bind(now)
        .bind(chat_id)
        .bind(reader)
        .bind(up_to)
        .fetch_all(&mut *conn)
        .await?
    }))
}

/// Delete a message; the chat's last message moves back if it was this.
pub async fn delete_message(tx: &mut Tx, message: &MessageRow) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM chat_messages WHERE id = $1")
            .bind(message.id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE chats SET last_message_id = \
             (SELECT MAX(id) FROM chat_messages WHERE chat_id = $1) WHERE id = $1",
        )
        .bind(message.chat_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Messages in a chat.
pub async fn message_count(db: &Db, chat_id: i64) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM chat_messages WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_one(pool)
            .await?
    }))
}
