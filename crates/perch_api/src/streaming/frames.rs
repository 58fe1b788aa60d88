//! Chat over the WebSocket: the frames a client sends (a message with its
//! own id, typing, delivered, seen, ping), the replay of a reconnecting
//! client's missed events, and the rendering of log events as frames.
//!
//! Client frames:
//! - `{"type":"chat_message","chat_id":"…","content":"…","client_id":"…"}`,
//!   answered by `ack` with the stored id (resending a client id creates
//!   nothing and is acknowledged again);
//! - `{"type":"typing","chat_id":"…"}` (never stored);
//! - `{"type":"delivered","chat_id":"…","message_id":"…"}` and
//!   `{"type":"seen","chat_id":"…","last_read_id":"…"}`;
//! - `{"type":"ping"}`, answered by `pong`.

use std::collections::HashMap;
use std::time::Instant;

use perch_core::id::Id;
use perch_db::accounts::{self, AccountRow};
use perch_db::chats::{self, MessageRow};
use perch_db::user_events::{self, EventRow};
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::OUTSIDE_SCOPES;
use super::streams::{Grants, Stream, error_frame};
use crate::chats::chat_of;
use crate::entities::chat::chat_message;
use crate::{ApiError, ApiState};
use perch_domain::chats::{self as chats_domain, Body, Receipt};

/// Frames a client may send per second, on average…
const FRAMES_PER_SECOND: f64 = 10.0;
/// …and in one burst.
const FRAME_BURST: f64 = 30.0;
/// Events replayed per database read.
const REPLAY_BATCH: i64 = 500;
/// How long a typing indicator lasts unless renewed, in seconds.
pub const TYPING_EXPIRES_IN: u64 = 5;

/// A token bucket over a connection's frames.
pub struct RateLimit {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    pub fn new() -> RateLimit {
        RateLimit {
            tokens: FRAME_BURST,
            at: Instant::now(),
        }
    }

    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * FRAMES_PER_SECOND;
        self.tokens = (self.tokens + refill).min(FRAME_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// An event frame of the user stream, with the event's number.
pub fn numbered_frame(event: &str, payload: &str, seq: i64) -> String {
    json!({
        "stream": Stream::User.names(),
        "event": event,
        "payload": payload,
        "seq": seq,
    })
    .to_string()
}

fn user_frame(event: &str, payload: &Value) -> String {
    json!({ "stream": Stream::User.names(), "event": event, "payload": payload.to_string() })
        .to_string()
}

/// The message a `chat_message` log event refers to.
fn referenced_message(event: &EventRow) -> Option<i64> {
    if event.event != "chat_message" {
        return None;
    }
    let reference: Value = serde_json::from_str(&event.payload).ok()?;
    reference["message_id"].as_str()?.parse().ok()
}

/// The messages that `events` refer to, by id, read in one query.
pub async fn messages_of<'a>(
    state: &ApiState,
    events: impl IntoIterator<Item = &'a EventRow>,
) -> Result<HashMap<i64, MessageRow>, ApiError> {
    let mut ids: Vec<i64> = events.into_iter().filter_map(referenced_message).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(chats::find_messages(&state.db, &ids)
        .await?
        .into_iter()
        .map(|message| (message.id, message))
        .collect())
}

/// A log event as `reader`'s frame, with the messages it may refer to
/// ([`messages_of`]). A message deleted since is left out (its deletion
/// follows in the log).
pub fn render_event(
    reader: i64,
    event: &EventRow,
    messages: &HashMap<i64, MessageRow>,
) -> Result<Option<String>, ApiError> {
    let payload = if event.event == "chat_message" {
        let Some(message) = referenced_message(event).and_then(|id| messages.get(&id)) else {
            return Ok(None);
        };
        serde_json::to_string(&chat_message(message, reader)).map_err(|e| ApiError::internal(&e))?
    } else {
        event.payload.clone()
    };
    Ok(Some(numbered_frame(&event.event, &payload, event.seq)))
}

/// What a connection missed after `after`: frames with their numbers (a
/// `resync` carries none: it is always sent), and the number of the last.
pub struct Replay {
    pub frames: Vec<(Option<i64>, String)>,
    pub last: i64,
}

/// What a client that last saw `after` missed, as frames, and the number of
/// the last one; beyond the retention window (or from a log that does not
/// know `after`), one `resync` frame telling it to reload through the REST
/// API and carry on from the current number.
pub async fn replay(state: &ApiState, account_id: i64, after: i64) -> Result<Replay, ApiError> {
    let (oldest, last) = user_events::bounds(&state.db, account_id).await?;
    let gap = match oldest {
        Some(oldest) => after < oldest - 1,
        None => after < last,
    };
    if after > last || gap {
        let payload = json!({ "seq": last });
        return Ok(Replay {
            frames: vec![(None, numbered_frame("resync", &payload.to_string(), last))],
            last,
        });
    }
    let mut frames = Vec::new();
    let mut cursor = after;
    loop {
        let batch = user_events::since(&state.db, account_id, cursor, REPLAY_BATCH).await?;
        let Some(end) = batch.last().map(|e| e.seq) else {
            break;
        };
        let messages = messages_of(state, &batch).await?;
        for event in &batch {
            if let Some(frame) = render_event(account_id, event, &messages)? {
                frames.push((Some(event.seq), frame));
            }
        }
        cursor = end;
    }
    Ok(Replay {
        frames,
        last: cursor,
    })
}

#[derive(Debug, Deserialize)]
struct ChatFrame {
    #[serde(rename = "type")]
    kind: String,
    chat_id: Option<String>,
    content: Option<String>,
    client_id: Option<String>,
    message_id: Option<String>,
    last_read_id: Option<String>,
}

/// Handle a chat frame; the answer for this connection, if any.
pub async fn handle(
    state: &ApiState,
    account: Option<&AccountRow>,
    grants: Grants,
    text: &str,
) -> Option<String> {
    let frame: ChatFrame = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(_) => return Some(error_frame("Invalid frame", 400)),
    };
    match frame.kind.as_str() {
        // Handled by the session already.
        "subscribe" | "unsubscribe" => return None,
        "ping" => return Some(frame_pong()),
        "chat_message" | "typing" | "delivered" | "seen" => {}
        _ => return Some(error_frame("Unknown frame type", 400)),
    }
    let Some(me) = account else {
        return Some(error_frame("Missing access token", 401));
    };
    // What the REST API's chat endpoints ask for sending and marking.
    if !grants.write_chats {
        return Some(error_frame(OUTSIDE_SCOPES, 403));
    }
    match chat_frame(state, me, &frame).await {
        Ok(answer) => answer,
        Err(error) => Some(error_frame(error.message(), error.status().as_u16())),
    }
}

fn frame_pong() -> String {
    json!({ "event": "pong" }).to_string()
}

fn id_of(text: Option<&str>, what: &str) -> Result<i64, ApiError> {
    text.and_then(|t| t.parse().ok())
        .ok_or_else(|| ApiError::bad_request(format!("{what} is missing or not an id")))
}

async fn chat_frame(
    state: &ApiState,
    me: &AccountRow,
    frame: &ChatFrame,
) -> Result<Option<String>, ApiError> {
    let chat_id = frame
        .chat_id
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("chat_id is missing"))?;
    let (chat, other) = chat_of(state, me, chat_id).await?;
    match frame.kind.as_str() {
        "chat_message" => {
            let body = Body::Text {
                text: frame.content.as_deref().unwrap_or_default(),
                client_id: frame.client_id.as_deref(),
            };
            let sent = chats_domain::send(&state.domain, me, &other, &chat, body).await?;
            let payload = json!({
                "client_id": frame.client_id,
                "id": sent.message.id.to_string(),
                "chat_id": chat.id.to_string(),
                "created": sent.created,
            });
            Ok(Some(user_frame("ack", &payload)))
        }
        "typing" => {
            chats_domain::typing(&state.domain, me, &other, &chat).await?;
            Ok(None)
        }
        "delivered" => {
            let up_to = id_of(frame.message_id.as_deref(), "message_id")?;
            chats_domain::acknowledge(&state.domain, me, &other, &chat, up_to, Receipt::Delivered)
                .await?;
            Ok(None)
        }
        _ => {
            let up_to = match frame.last_read_id.as_deref() {
                Some(id) => id_of(Some(id), "last_read_id")?,
                None => i64::MAX,
            };
            chats_domain::acknowledge(&state.domain, me, &other, &chat, up_to, Receipt::Seen)
                .await?;
            Ok(None)
        }
    }
}

/// The `typing` frame for the other member.
pub async fn typing_frame(
    state: &ApiState,
    chat_id: i64,
    from: i64,
) -> Result<Option<String>, ApiError> {
    let Some(sender) = accounts::find_by_id(&state.db, Id::from_i64(from)).await? else {
        return Ok(None);
    };
    let payload = json!({
        "chat_id": chat_id.to_string(),
        "account_id": sender.id.to_string(),
        "expires_in": TYPING_EXPIRES_IN,
    });
    Ok(Some(user_frame("typing", &payload)))
}

/// The `presence` frame of an account.
pub async fn presence_frame(
    state: &ApiState,
    account_id: i64,
    online: bool,
) -> Result<String, ApiError> {
    let (_, last_seen) =
        perch_db::presence::status(&state.db, account_id, perch_core::time::now_millis()).await?;
    let payload = json!({
        "account_id": account_id.to_string(),
        "online": online,
        "last_seen_at": last_seen.map(crate::entities::iso8601_millis),
    });
    Ok(user_frame("presence", &payload))
}
