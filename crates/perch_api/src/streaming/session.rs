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

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::streams::{ClientFrame, Stream, error_frame};

/// Frames waiting to be written, per connection.
pub const QUEUE_CAPACITY: usize = 512;
/// Close code for a connection whose reader fell behind (application
/// range, as the WebSocket protocol reserves 4000–4999 for applications).
pub const CLOSE_TOO_SLOW: u16 = 4000;
pub const PING_EVERY: Duration = Duration::from_secs(30);
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Largest frame a client may send (subscriptions are tiny).
pub const MAX_CLIENT_FRAME: usize = 4096;

/// A connection as the hub sees it.
pub struct Session {
    pub id: u64,
    /// `None` when nobody signed in.
    pub account_id: Option<i64>,
    subscriptions: Mutex<HashSet<Stream>>,
    queue: mpsc::Sender<Utf8Bytes>,
    /// Cancelled when the queue overflowed.
    overflowed: CancellationToken,
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
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(frame) {
            self.overflowed.cancel();
        }
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

/// Serve one upgraded connection until either side ends it.
pub async fn run(
    socket: WebSocket,
    registry: Arc<Registry>,
    account_id: Option<i64>,
    initial: Option<Stream>,
    stop: CancellationToken,
) {
    let (queue, mut outgoing) = mpsc::channel(QUEUE_CAPACITY);
    let session = Arc::new(Session {
        id: registry.next_id.fetch_add(1, Ordering::Relaxed),
        account_id,
        subscriptions: Mutex::new(initial.into_iter().collect()),
        queue,
        overflowed: CancellationToken::new(),
    });
    registry.add(session.clone());
    metrics::gauge!("perch_streaming_connections").increment(1.0);

    let (mut sink, mut source) = socket.split();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_heard = Instant::now();
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
            () = session.overflowed.cancelled() => {
                metrics::counter!("perch_streaming_slow_closes").increment(1);
                let _ = sink.send(close(CLOSE_TOO_SLOW, "too slow: the outgoing queue is full")).await;
                break;
            }
            frame = outgoing.recv() => {
                let Some(frame) = frame else { break };
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
                        if let Some(reply) = handle_client_frame(&session, text.as_str()) {
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
    registry.remove(session.id);
    metrics::gauge!("perch_streaming_connections").decrement(1.0);
}

/// Apply a subscribe/unsubscribe frame; the answer is an error frame, if any.
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
        _ => return Some(error_frame("Unknown frame type", 400)),
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
