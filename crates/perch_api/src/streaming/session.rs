//! One WebSocket connection: its subscriptions, its bounded outgoing queue,
//! and the loops that read from and write to the socket.
//!
//! The hub never waits for a socket: it offers each frame to the
//! connection's queue and, when the queue is full (a reader too slow to keep
//! up), the connection is closed with [`CLOSE_TOO_SLOW`] instead of growing
//! memory. The server pings every [`PING_EVERY`]; a connection that sends
//! nothing (not even a pong) for [`IDLE_TIMEOUT`] is closed.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::live::LiveEvent;
use perch_db::presence;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;

use super::frames::{self, RateLimit};
use super::queue::{Next, Queue};
use super::streams::{ClientFrame, Stream, error_frame};
use crate::ApiState;

/// Frames waiting to be written, per connection.
pub const QUEUE_CAPACITY: usize = 512;
/// Close code for a connection whose reader fell behind (application
/// range, as the WebSocket protocol reserves 4000–4999 for applications).
pub const CLOSE_TOO_SLOW: u16 = 4000;
pub const PING_EVERY: Duration = Duration::from_secs(30);
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// What is read from the socket at once. Client frames are small (a
/// subscription, a chat message); a larger one grows the buffer while it is
/// read.
pub const READ_BUFFER: usize = 4 * 1024;
/// The most written frames waiting for the socket (frames are written as
/// they come; the queue above bounds how many wait before that).
pub const MAX_WRITE_BUFFER: usize = 1024 * 1024;
/// Largest frame a client may send (a chat message of 5,000 characters,
/// escaped, fits).
pub const MAX_CLIENT_FRAME: usize = 32 * 1024;

/// A frame waiting to be written; events of the account's log carry their
/// number, so that one already replayed is not sent twice.
pub struct Outgoing {
    frame: Utf8Bytes,
    seq: Option<i64>,
}

/// A connection as the hub sees it.
pub struct Session {
    pub id: u64,
    /// `None` when nobody signed in.
    pub account_id: Option<i64>,
    subscriptions: Mutex<HashSet<Stream>>,
    queue: Queue<Outgoing>,
}

impl Session {
    pub fn subscriptions(&self) -> Vec<Stream> {
        self.subscriptions
            .lock()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn is_subscribed(&self, stream: &Stream) -> bool {
        self.subscriptions
            .lock()
            .map(|s| s.contains(stream))
            .unwrap_or(false)
    }

    /// Queue a frame; a full queue closes the connection.
    pub fn push(&self, frame: Utf8Bytes) {
        self.offer(Outgoing { frame, seq: None });
    }

    /// Queue an event of the account's log.
    pub fn push_numbered(&self, frame: Utf8Bytes, seq: i64) {
        self.offer(Outgoing {
            frame,
            seq: Some(seq),
        });
    }

    fn offer(&self, outgoing: Outgoing) {
        self.queue.offer(outgoing);
    }
}

/// Every open connection of this process.
#[derive(Default)]
pub struct Registry {
    next_id: AtomicU64,
    sessions: Mutex<HashMap<u64, Arc<Session>>>,
}

impl Registry {
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.sessions
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.lock().map(|s| s.is_empty()).unwrap_or(true)
    }

    pub fn len(&self) -> usize {
        self.sessions.lock().map(|s| s.len()).unwrap_or(0)
    }

    fn add(&self, session: Arc<Session>) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.insert(session.id, session);
        }
    }

    fn remove(&self, id: u64) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(&id);
        }
    }
}

/// What a connection starts with.
pub struct Opening {
    pub account: Option<AccountRow>,
    pub initial: Option<Stream>,
    /// The last event number the client saw, to replay what follows.
    pub last_seq: Option<i64>,
}

/// Serve one upgraded connection until either side ends it.
///
/// An idle connection is this future, so it is kept small: the state and
/// the opening come boxed (axum's upgrade future holds them too), and the
/// work a connection does now and then (presence, replay, chat frames) is
/// boxed where it is awaited, instead of reserving room for its largest
/// future in every connection. This future went from 5.7 KiB to 1.2 KiB.
pub async fn run(socket: WebSocket, begun: Box<(ApiState, Opening)>) {
    let (state, opening) = (&begun.0, &begun.1);
    let registry = state.streaming.clone();
    let stop = state.shutdown.clone();
    let account_id = opening.account.as_ref().map(|a| a.id);
    let session = Arc::new(Session {
        id: registry.next_id.fetch_add(1, Ordering::Relaxed),
        account_id,
        subscriptions: Mutex::new(opening.initial.iter().cloned().collect()),
        queue: Queue::new(QUEUE_CAPACITY),
    });
    // Registered before the replay reads the log: an event committed in
    // between is queued live, and skipped if the replay had it.
    registry.add(session.clone());
    metrics::gauge!("perch_streaming_connections").increment(1.0);
    if let Some(account) = &opening.account {
        Box::pin(announce_presence(state, account.id, true)).await;
    }

    let (mut sink, mut source) = socket.split();
    // Events up to this number were replayed; the same events queued live
    // meanwhile are skipped. Live events themselves are each sent: they
    // are published after their transactions commit, so two changes
    // committed close together may arrive in either order, and one with a
    // lower number than the last sent is still new.
    let mut replayed_through: i64 = 0;
    if let (Some(account), Some(after)) = (&opening.account, opening.last_seq) {
        match Box::pin(frames::replay(state, account.id, after)).await {
            Ok((replayed, last)) => {
                for frame in replayed {
                    if sink.send(Message::Text(frame.into())).await.is_err() {
                        return Box::pin(finish(
                            state,
                            &registry,
                            &session,
                            opening.account.as_ref(),
                        ))
                        .await;
                    }
                }
                replayed_through = last;
            }
            Err(error) => tracing::warn!(error = error.message(), "replay failed"),
        }
    }
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_heard = Instant::now();
    let mut rate = RateLimit::new();
    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }))
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                let _ = sink.send(close(1001, "server shutting down")).await;
                break;
            }
            next = session.queue.next() => {
                let Next::Item(Outgoing { frame, seq }) = next else {
                    metrics::counter!("perch_streaming_slow_closes").increment(1);
                    let _ = sink.send(close(CLOSE_TOO_SLOW, "too slow: the outgoing queue is full")).await;
                    break;
                };
                if seq.is_some_and(|seq| seq <= replayed_through) {
                    continue;
                }
                if sink.send(Message::Text(frame)).await.is_err() {
                    break;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() >= IDLE_TIMEOUT {
                    let _ = sink.send(close(1001, "idle timeout")).await;
                    break;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            received = source.next() => {
                last_heard = Instant::now();
                match received {
                    Some(Ok(Message::Text(text))) => {
                        let reply = if !rate.allow() {
                            Some(error_frame("Too many frames: slow down", 429))
                        } else {
                            match handle_client_frame(&session, text.as_str()) {
                                Some(reply) => Some(reply),
                                None => {
                                    let account = opening.account.as_ref();
                                    Box::pin(frames::handle(state, account, text.as_str())).await
                                }
                            }
                        };
                        if let Some(reply) = reply {
                            session.push(reply.into());
                        }
                    }
                    Some(Ok(Message::Ping(data))) => {
                        if sink.send(Message::Pong(data)).await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(Message::Pong(_))) => {}
                    Some(Ok(Message::Binary(_))) => {
                        session.push(error_frame("Binary frames are not supported", 400).into());
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                }
            }
        }
    }
    Box::pin(finish(state, &registry, &session, opening.account.as_ref())).await;
}

async fn finish(
    state: &ApiState,
    registry: &Registry,
    session: &Session,
    account: Option<&AccountRow>,
) {
    registry.remove(session.id);
    metrics::gauge!("perch_streaming_connections").decrement(1.0);
    if let Some(account) = account {
        announce_presence(state, account.id, false).await;
    }
}

/// Count the connection in or out; tell chat partners when the account
/// came online (its first connection anywhere) or went offline (its last),
/// unless it hides its presence.
async fn announce_presence(state: &ApiState, account_id: i64, opened: bool) {
    let node = state.ids.node();
    let now = now_millis();
    let counted = if opened {
        presence::connected(&state.db, account_id, node, now).await
    } else {
        presence::disconnected(&state.db, account_id, node, now).await
    };
    let total = match counted {
        Ok(total) => total,
        Err(error) => {
            tracing::warn!(%error, "presence was not recorded");
            return;
        }
    };
    let changed = if opened { total == 1 } else { total == 0 };
    if !changed
        || presence::is_hidden(&state.db, account_id)
            .await
            .unwrap_or(true)
    {
        return;
    }
    let event = LiveEvent::Presence {
        account_id,
        online: opened,
    };
    state.federation.bus.publish(&[event]).await;
}

/// Apply a subscribe/unsubscribe frame; the answer is an error frame, if
/// any. Other frames (`None` with nothing done) are chat frames.
fn handle_client_frame(session: &Session, text: &str) -> Option<String> {
    if text.len() > MAX_CLIENT_FRAME {
        return Some(error_frame("Frame too large", 413));
    }
    let frame: ClientFrame = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(_) => return Some(error_frame("Invalid JSON frame", 400)),
    };
    let subscribe = match frame.kind.as_str() {
        "subscribe" => true,
        "unsubscribe" => false,
        _ => return None,
    };
    let Some(name) = frame.stream.as_deref() else {
        return Some(error_frame("No stream given", 400));
    };
    let stream = match Stream::parse(name, frame.tag.as_deref()) {
        Ok(stream) => stream,
        Err(error) => return Some(error_frame(&error.to_string(), 400)),
    };
    if stream.is_private() && session.account_id.is_none() {
        return Some(error_frame("Missing access token", 401));
    }
    if let Ok(mut subscriptions) = session.subscriptions.lock() {
        if subscribe {
            subscriptions.insert(stream);
        } else {
            subscriptions.remove(&stream);
        }
    }
    None
}
