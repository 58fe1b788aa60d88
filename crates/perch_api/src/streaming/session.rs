//! One WebSocket connection: its subscriptions, its bounded outgoing queue,
//! and the loops that read from and write to the socket.
//!
//! The hub never waits for a socket: it offers each frame to the
//! connection's queue and, when the queue is full (a reader too slow to keep
//! up), the connection is closed with [`CLOSE_TOO_SLOW`] instead of growing
//! memory. The server pings every [`PING_EVERY`]; a connection that sends
//! nothing (not even a pong) for [`IDLE_TIMEOUT`] is closed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use perch_core::time::now_millis;
use perch_db::accounts::AccountRow;
use perch_db::live::LiveEvent;
use perch_db::presence;
use perch_db::user_events;

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

/// Numbered events of the account's log remembered as sent above the floor
/// (live events arrive in the order they were published, which is not
/// always their numbers' order).
const REMEMBERED_ABOVE_FLOOR: usize = 256;

/// What waits to be written.
pub enum Outgoing {
    /// A frame; events of the account's log carry their number, so that
    /// one already sent is not sent twice.
    Frame { frame: Utf8Bytes, seq: Option<i64> },
    /// The hub missed events: read what this connection has not sent from
    /// the account's log.
    CatchUp,
}

/// A connection as the hub sees it.
pub struct Session {
    pub id: u64,
    /// `None` when nobody signed in.
    pub account_id: Option<i64>,
    subscriptions: Mutex<HashSet<Stream>>,
    queue: Queue<Outgoing>,
    /// A catch-up is queued and not yet done.
    catching_up: AtomicBool,
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
        self.queue.offer(Outgoing::Frame { frame, seq: None });
    }

    /// Queue an event of the account's log.
    pub fn push_numbered(&self, frame: Utf8Bytes, seq: i64) {
        self.queue.offer(Outgoing::Frame {
            frame,
            seq: Some(seq),
        });
    }

    /// Have the connection read what it missed from the account's log
    /// (once, however often this is called before it does).
    pub fn catch_up(&self) {
        if self.account_id.is_some() && !self.catching_up.swap(true, Ordering::AcqRel) {
            self.queue.offer(Outgoing::CatchUp);
        }
    }
}

/// Which events of the account's log a connection has sent: every one up
/// to `floor`, and those remembered above it.
struct Sent {
    /// `None` while unknown (the log could not be read at the start).
    floor: Option<i64>,
    above: BTreeSet<i64>,
}

impl Sent {
    fn from(floor: Option<i64>) -> Sent {
        Sent {
            floor,
            above: BTreeSet::new(),
        }
    }

    fn has(&self, seq: i64) -> bool {
        self.floor.is_some_and(|floor| seq <= floor) || self.above.contains(&seq)
    }

    fn record(&mut self, seq: i64) {
        if self.floor.is_some_and(|floor| seq <= floor) {
            return;
        }
        self.above.insert(seq);
        if self.above.len() > REMEMBERED_ABOVE_FLOOR {
            self.above.pop_first();
        }
    }

    /// Everything up to `last` was sent (a replay read the log through it).
    fn through(&mut self, last: i64) {
        let floor = self.floor.map_or(last, |floor| floor.max(last));
        self.floor = Some(floor);
        self.above.retain(|&seq| seq > floor);
    }
}

/// Every open connection of this process, and those of each account.
#[derive(Default)]
pub struct Registry {
    next_id: AtomicU64,
    sessions: Mutex<Sessions>,
}

#[derive(Default)]
struct Sessions {
    all: HashMap<u64, Arc<Session>>,
    by_account: HashMap<i64, Vec<Arc<Session>>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn all(&self) -> Vec<Arc<Session>> {
        self.lock().all.values().cloned().collect()
    }

    /// The connections signed in as `account_id`.
    pub fn of_account(&self, account_id: i64) -> Vec<Arc<Session>> {
        self.lock()
            .by_account
            .get(&account_id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().all.is_empty()
    }

    pub fn len(&self) -> usize {
        self.lock().all.len()
    }

    fn add(&self, session: Arc<Session>) {
        let mut sessions = self.lock();
        if let Some(account_id) = session.account_id {
            sessions
                .by_account
                .entry(account_id)
                .or_default()
                .push(session.clone());
        }
        sessions.all.insert(session.id, session);
    }

    fn remove(&self, id: u64) {
        let mut sessions = self.lock();
        let Some(session) = sessions.all.remove(&id) else {
            return;
        };
        if let Some(account_id) = session.account_id {
            if let Some(of_account) = sessions.by_account.get_mut(&account_id) {
                of_account.retain(|s| s.id != id);
                if of_account.is_empty() {
                    sessions.by_account.remove(&account_id);
                }
            }
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
        catching_up: AtomicBool::new(false),
    });
    // A client that did not give `last_seq` starts from the log's current
    // number, read before the connection is registered: what is committed
    // after the read is sent live. One that gave it is registered before
    // the replay reads the log: an event committed in between is queued
    // live, and skipped if the replay had it.
    let mut sent = Sent::from(None);
    if let (Some(account), None) = (&opening.account, opening.last_seq) {
        match Box::pin(user_events::last_seq(&state.db, account.id)).await {
            Ok(last) => sent.through(last),
            Err(error) => tracing::warn!(%error, "the event log could not be read"),
        }
    }
    registry.add(session.clone());
    metrics::gauge!("perch_streaming_connections").increment(1.0);
    if let Some(account) = &opening.account {
        Box::pin(announce_presence(state, account.id, true)).await;
    }

    let (mut sink, mut source) = socket.split();
    // Live events are each sent: they are published after their
    // transactions commit, so two changes committed close together may
    // arrive in either order, and one with a lower number than the last
    // sent is still new. `sent` skips those a replay already sent.
    if let (Some(account), Some(after)) = (&opening.account, opening.last_seq) {
        match Box::pin(frames::replay(state, account.id, after)).await {
            Ok(replay) => {
                if !send_replay(&mut sink, &mut sent, replay).await {
                    return Box::pin(finish(state, &registry, &session, opening.account.as_ref()))
                        .await;
                }
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
                let Next::Item(outgoing) = next else {
                    metrics::counter!("perch_streaming_slow_closes").increment(1);
                    let _ = sink.send(close(CLOSE_TOO_SLOW, "too slow: the outgoing queue is full")).await;
                    break;
                };
                match outgoing {
                    Outgoing::Frame { frame, seq } => {
                        if let Some(seq) = seq {
                            if sent.has(seq) {
                                continue;
                            }
                            sent.record(seq);
                        }
                        if sink.send(Message::Text(frame)).await.is_err() {
                            break;
                        }
                    }
                    Outgoing::CatchUp => {
                        session.catching_up.store(false, Ordering::Release);
                        if !Box::pin(catch_up(state, &mut sink, &mut sent, account_id)).await {
                            break;
                        }
                    }
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

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Send a replay's frames, except those already sent; false when the
/// socket is gone.
async fn send_replay(sink: &mut Sink, sent: &mut Sent, replay: frames::Replay) -> bool {
    for (seq, frame) in replay.frames {
        if seq.is_some_and(|seq| sent.has(seq)) {
            continue;
        }
        if sink.send(Message::Text(frame.into())).await.is_err() {
            return false;
        }
    }
    sent.through(replay.last);
    true
}

/// After the hub missed events: what the account's log holds past what
/// this connection sent. False when the socket is gone.
async fn catch_up(
    state: &ApiState,
    sink: &mut Sink,
    sent: &mut Sent,
    account_id: Option<i64>,
) -> bool {
    let (Some(account_id), Some(floor)) = (account_id, sent.floor) else {
        return true;
    };
    metrics::counter!("perch_streaming_catch_ups").increment(1);
    match frames::replay(state, account_id, floor).await {
        Ok(replay) => send_replay(sink, sent, replay).await,
        Err(error) => {
            tracing::warn!(error = error.message(), "catching up failed");
            true
        }
    }
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
