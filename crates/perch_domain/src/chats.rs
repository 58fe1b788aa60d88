//! One-to-one chat: a message sent (by a local member, through the REST API
//! or a WebSocket frame, or by a remote one, through its server),
//! acknowledged, read or deleted. Every device of every local member hears
//! of each change through the members' numbered event logs, written in the
//! change's transaction; a message to a remote member is published.

use chrono::{DateTime, SecondsFormat};
use perch_core::content;
use perch_core::outbound::{ChatNote, Outbound};
use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::chats::{self, ChatRow, MessageRow, NewMessage};
use perch_db::live::LiveEvent;
use perch_db::user_events;
use serde_json::json;

use crate::describe::actor_ref;
use crate::error::{DomainError, Result};
use crate::{Domain, Received};

/// Longest message, in characters (Pleroma's default limit).
pub const MAX_MESSAGE_CHARS: usize = 5000;
/// Longest client-chosen message id.
pub const MAX_CLIENT_ID: usize = 64;

/// A sent message, and whether this call created it (false: the client id
/// or the note was seen before and this is the earlier message).
pub struct Sent {
    pub message: MessageRow,
    pub created: bool,
}

/// The local members of a chat between `a` and `b`.
fn local_members(a: &AccountRow, b: &AccountRow) -> Vec<i64> {
    let mut members: Vec<i64> = [a, b]
        .iter()
        .filter(|m| m.domain.is_none())
        .map(|m| m.id)
        .collect();
    members.dedup();
    members
}

/// What a message carries.
pub enum Body<'a> {
    /// Plain text from a local member, with the client's own id for it.
    Text {
        text: &'a str,
        client_id: Option<&'a str>,
    },
    /// A remote member's message: sanitised HTML under its own id.
    Received {
        html: &'a str,
        uri: &'a str,
        received: Option<&'a Received>,
    },
}

/// Plain text as the HTML a message is stored with: escaped, with links.
fn message_html(domain: &Domain, text: &str) -> String {
    let layout = &domain.layout;
    content::render(&content::parse(text), |_| None, |tag| layout.tag_url(tag))
}

/// Checked text and client id of a local member's message.
fn check_text<'a>(text: &'a str, client_id: Option<&'a str>) -> Result<(&'a str, Option<&'a str>)> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DomainError::invalid(
            "Validation failed: Content can't be blank",
        ));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(DomainError::invalid(format!(
            "Validation failed: Content is longer than {MAX_MESSAGE_CHARS} characters"
        )));
    }
    let client_id = client_id.map(str::trim).filter(|c| !c.is_empty());
    if client_id.is_some_and(|c| c.len() > MAX_CLIENT_ID) {
        return Err(DomainError::invalid(format!(
            "Validation failed: the client id is longer than {MAX_CLIENT_ID} bytes"
        )));
    }
    Ok((text, client_id))
}

/// `sender` sends a message to `recipient` in their `chat`.
pub async fn send(
    domain: &Domain,
    sender: &AccountRow,
    recipient: &AccountRow,
    chat: &ChatRow,
    body: Body<'_>,
) -> Result<Sent> {
    if crate::blocks::refuses(domain, recipient, sender).await? {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    let id = domain.next_id();
    let (client_id, uri, html, received) = match body {
        Body::Text { text, client_id } => {
            // A client id seen before is found when the insert conflicts.
            let (text, client_id) = check_text(text, client_id)?;
            let uri = domain.layout.chat_message_uri(&sender.username, id);
            (client_id, uri, message_html(domain, text), None)
        }
        Body::Received {
            html,
            uri,
            received,
        } => {
            if let Some(earlier) = chats::find_message_by_uri(&domain.db, uri).await? {
                return Ok(Sent {
                    message: earlier,
                    created: false,
                });
            }
            (None, uri.to_owned(), html.to_owned(), received)
        }
    };
    let now = now_millis();
    let new = NewMessage {
        id,
        chat_id: chat.id,
        sender_id: sender.id,
        client_id,
        uri: &uri,
        content: &html,
        created_at: now,
    };
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? || !chats::insert_message(&mut change.tx, &new).await? {
        drop(change);
        let earlier = match client_id {
            Some(client_id) => chats::find_by_client_id(&domain.db, sender.id, client_id).await?,
            None => chats::find_message_by_uri(&domain.db, &uri).await?,
        };
        return earlier
            .map(|message| Sent {
                message,
                created: false,
            })
            .ok_or_else(|| DomainError::Internal("a message could not be stored".to_owned()));
    }
    let message = MessageRow {
        id,
        chat_id: chat.id,
        sender_id: sender.id,
        client_id: client_id.map(str::to_owned),
        uri,
        content: html,
        created_at: now,
        delivered_at: None,
        seen_at: None,
    };
    if sender.domain.is_none() && recipient.domain.is_some() {
        let domain_name = recipient.domain.as_deref().unwrap_or(&domain.local_domain);
        let note = ChatNote {
            uri: message.uri.clone(),
            sender: actor_ref(sender),
            recipient: actor_ref(recipient),
            recipient_name: format!("@{}@{domain_name}", recipient.username),
            content: message.content.clone(),
            published: message.created_at,
            as_chat_message: recipient.accepts_chat_messages,
        };
        change
            .publish(Outbound::ChatMessage(Box::new(note)))
            .await?;
    }
    // Last, so that the members' rows, which their every chat change
    // locks, are held for the commit only.
    let live = user_events::append_to(
        &mut change.tx,
        &local_members(sender, recipient),
        "chat_message",
        &user_events::message_reference(message.chat_id, message.id),
        now,
    )
    .await?;
    change.live(live);
    change.commit().await?;
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

fn iso8601_millis(unix_millis: i64) -> String {
    DateTime::from_timestamp_millis(unix_millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `me` acknowledges the other member's messages up to `up_to`; both sides'
/// devices hear of what changed. Returns the messages that changed.
pub async fn acknowledge(
    domain: &Domain,
    me: &AccountRow,
    other: &AccountRow,
    chat: &ChatRow,
    up_to: i64,
    receipt: Receipt,
) -> Result<Vec<MessageRow>> {
    let now = now_millis();
    let mut change = domain.begin().await?;
    let changed = match receipt {
        Receipt::Delivered => {
            chats::mark_delivered(&mut change.tx, chat.id, me.id, up_to, now).await?
        }
        Receipt::Seen => chats::mark_seen(&mut change.tx, chat.id, me.id, up_to, now).await?,
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
        &mut change.tx,
        &local_members(me, other),
        "chat_receipt",
        &payload,
        now,
    )
    .await?;
    change.live(live);
    change.commit().await?;
    Ok(changed)
}

/// The sender deletes a message; both sides' devices hear of it.
pub async fn delete(
    domain: &Domain,
    me: &AccountRow,
    other: &AccountRow,
    chat: &ChatRow,
    message: &MessageRow,
) -> Result<()> {
    if message.sender_id != me.id || message.chat_id != chat.id {
        return Err(DomainError::NotFound);
    }
    let now = now_millis();
    let payload = json!({
        "chat_id": chat.id.to_string(),
        "message_id": message.id.to_string(),
    })
    .to_string();
    let mut change = domain.begin().await?;
    chats::delete_message(&mut change.tx, message).await?;
    let live = user_events::append_to(
        &mut change.tx,
        &local_members(me, other),
        "chat_message_deleted",
        &payload,
        now,
    )
    .await?;
    change.live(live);
    change.commit().await
}

/// The chat of `a` and `b`, opened when they have none; refused when
/// either keeps the other away (a block, or `b`'s block of `a`'s server).
pub async fn open(domain: &Domain, a: &AccountRow, b: &AccountRow) -> Result<ChatRow> {
    if crate::blocks::refuses(domain, b, a).await? || crate::blocks::refuses(domain, a, b).await? {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    Ok(chats::find_or_create(&domain.db, domain.next_id(), a.id, b.id, now_millis()).await?)
}

/// `from` is typing in `chat` to `to`: a live event for `to` when `to` is
/// local and does not refuse `from`; nothing is stored.
pub async fn typing(
    domain: &Domain,
    from: &AccountRow,
    to: &AccountRow,
    chat: &ChatRow,
) -> Result<()> {
    if to.domain.is_some() || crate::blocks::refuses(domain, to, from).await? {
        return Ok(());
    }
    domain
        .bus
        .publish(&[LiveEvent::Typing {
            chat_id: chat.id,
            from: from.id,
            to: to.id,
        }])
        .await;
    Ok(())
}
