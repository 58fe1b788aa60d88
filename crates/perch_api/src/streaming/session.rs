//! One WebSocket connection: its subscriptions, its bounded outgoing queue,
//! and the loops that read from and write to the socket.
//!
//! The hub never waits for a socket: it offers each frame to the
//! connection's queue and, when the queue is full (a reader too slow to keep
//! up), the connection is closed with [`CLOSE_TOO_SLOW`] instead of growing
//! memory. The server pings every [`PING_EVERY`]; a connection that sends
//! nothing (not even a pong) for [`IDLE_TIMEOUT`] is closed.

use std::collections::{BTreeSet, HashMap};
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
use serde_json::Value;
use tokio::time::Instant;

use super::frames::{self, RateLimit};
use super::queue::{Next, Queue};
use super::streams::{ClientFrame, Grants, Stream, error_frame};
use crate::ApiState;

/// Frames waiting to be written, per connection.
pub const QUEUE_CAPACITY: usize = 512;
/// Close code for a connection whose reader fell behind (application
/// range, as the WebSocket protocol reserves 4000–4999 for applications).
pub const CLOSE_TOO_SLOW: u16 = 4000;
/// Close code for a connection whose access ended: its token expired or
/// was revoked, or its user may no longer sign in.
pub const CLOSE_ACCESS_ENDED: u16 = 4001;
/// How often the sessions behind open connections are checked.
pub const ACCESS_CHECKED_EVERY: Duration = Duration::from_secs(5);
/// Sessions checked per query.
const ACCESS_CHECK_BATCH: usize = 500;
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

/// Streams one connection may be subscribed to at once. A client shows a
/// few (home, notifications, a public timeline, some hashtags); a column
/// client with many hashtag columns stays well under this. Past it a
/// subscribe is answered with an error frame and changes nothing, which
/// bounds what each event's fan-out checks per connection and what a
/// connection holds.
pub const MAX_SUBSCRIPTIONS: usize = 100;

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
    /// The connection's access ended: close it.
    End,
}

/// The access token a connection was opened with.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    /// Its server-side session.
    pub session_id: i64,
    /// When the token expires (Unix milliseconds).
    pub expires_at: i64,
}

/// A connection as the hub sees it.
pub struct Session {
    pub id: u64,
    /// `None` when nobody signed in.
    pub account_id: Option<i64>,
    /// What its token allows.
    pub grants: Grants,
    /// `None` when nobody signed in.
    access: Option<Access>,
    /// Each stream subscribed, with the `stream` array of its frames as the
    /// client asked for it (see [`Stream::names_as_asked`]).
    subscriptions: Mutex<HashMap<Stream, Value>>,
    queue: Queue<Outgoing>,
    /// A catch-up is queued and not yet done.
    catching_up: AtomicBool,
    /// Its access ended; nothing more is sent or handled.
    ended: AtomicBool,
}

impl Session {
    pub fn subscriptions(&self) -> Vec<Stream> {
        self.subscriptions
            .lock()
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn is_subscribed(&self, stream: &Stream) -> bool {
        self.subscriptions
            .lock()
            .map(|s| s.contains_key(stream))
            .unwrap_or(false)
    }

    /// The `stream` array this connection's frames of `stream` carry, when
    /// it differs from the usual one (a hashtag spelled otherwise).
    pub fn own_names(&self, stream: &Stream) -> Option<Value> {
        let names = self.subscriptions.lock().ok()?.get(stream)?.clone();
        (names != stream.names()).then_some(names)
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

    /// Whether chat events (the account's log, typing, presence) reach
    /// this connection.
    pub fn hears_chat(&self) -> bool {
        self.grants.read_chats && self.is_subscribed(&Stream::User)
    }

    /// Have the connection read what it missed from the account's log
    /// (once, however often this is called before it does).
    pub fn catch_up(&self) {
        if self.account_id.is_some() && !self.catching_up.swap(true, Ordering::AcqRel) {
            self.queue.offer(Outgoing::CatchUp);
        }
    }

    /// End the connection: its access is over. Frames already queued are
    /// dropped, not sent.
    pub fn end(&self) {
        if !self.ended.swap(true, Ordering::AcqRel) {
            self.queue.offer(Outgoing::End);
        }
    }

    fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
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

    /// Whether any connection is signed in as `account_id`.
    pub fn has_account(&self, account_id: i64) -> bool {
        self.lock()
            .by_account
            .get(&account_id)
            .is_some_and(|sessions| !sessions.is_empty())
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
    /// The client's `last_seq`, for the replay of what it missed.
    pub last_seq: Option<i64>,
    pub registered: Registered,
}

/// A connection registered with the hub before the handshake is answered,
/// so that nothing committed after the client sees the answer is missed.
/// Dropped, it leaves the registry (also when the handshake fails and the
/// connection never runs).
pub struct Registered {
    registry: Arc<Registry>,
    session: Arc<Session>,
    sent: Mutex<Sent>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.remove(self.session.id);
        metrics::gauge!("perch_streaming_connections").decrement(1.0);
    }
}

/// Registers a connection about to be answered. A client that gave no
/// `last_seq` starts from the log's current number, read after the
/// registration: an event committed before the read is left to the REST
/// API (the client has not been answered yet), one committed after it is
/// sent live. One that gave it has the replay read the log once it runs;
/// what is committed meanwhile is queued live and skipped if the replay
/// had it.
pub async fn register(
    state: &ApiState,
    account_id: Option<i64>,
    grants: Grants,
    access: Option<Access>,
    initial: Option<(Stream, Value)>,
    last_seq: Option<i64>,
) -> Registered {
    let registry = state.streaming.clone();
    let session = Arc::new(Session {
        id: registry.next_id.fetch_add(1, Ordering::Relaxed),
        account_id,
        grants,
        access,
        subscriptions: Mutex::new(initial.into_iter().collect()),
        queue: Queue::new(QUEUE_CAPACITY),
        catching_up: AtomicBool::new(false),
        ended: AtomicBool::new(false),
    });
    registry.add(session.clone());
    metrics::gauge!("perch_streaming_connections").increment(1.0);
    let mut sent = Sent::from(None);
    if let (Some(account_id), None) = (account_id, last_seq) {
        match user_events::last_seq(&state.db, account_id).await {
            Ok(last) => sent.through(last),
            Err(error) => tracing::warn!(%error, "the event log could not be read"),
        }
    }
    Registered {
        registry,
        session,
        sent: Mutex::new(sent),
    }
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
    let stop = state.shutdown.clone();
    let session = &opening.registered.session;
    let account_id = session.account_id;
    let mut sent = std::mem::replace(
        &mut *opening
            .registered
            .sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
        Sent::from(None),
    );
    if let Some(account) = &opening.account {
        Box::pin(announce_presence(state, account.id, true)).await;
    }

    let (mut sink, mut source) = socket.split();
    // Live events are each sent: they are published after their
    // transactions commit, so two changes committed close together may
    // arrive in either order, and one with a lower number than the last
    // sent is still new. `sent` skips those a replay already sent.
    let replayed = opening.last_seq.filter(|_| session.grants.read_chats);
    if let (Some(account), Some(after)) = (&opening.account, replayed) {
        match Box::pin(frames::replay(state, account.id, after)).await {
            Ok(replay) => {
                if !send_replay(&mut sink, &mut sent, replay).await {
                    return Box::pin(finish(state, opening.account.as_ref())).await;
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
                if session.has_ended() {
                    let _ = sink.send(close(CLOSE_ACCESS_ENDED, "the access token is no longer valid")).await;
                    break;
                }
                match outgoing {
                    Outgoing::End => {}
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
                    Some(Ok(Message::Text(_))) if session.has_ended() => {}
                    Some(Ok(Message::Text(text))) => {
                        let reply = if !rate.allow() {
                            Some(error_frame("Too many frames: slow down", 429))
                        } else {
                            match Box::pin(handle_client_frame(state, session, text.as_str())).await {
                                Some(reply) => Some(reply),
                                None => {
                                    let account = opening.account.as_ref();
                                    let grants = session.grants;
                                    Box::pin(frames::handle(state, account, grants, text.as_str())).await
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
    Box::pin(finish(state, opening.account.as_ref())).await;
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

/// The connection ended: it leaves the registry when its opening is
/// dropped, after this.
async fn finish(state: &ApiState, account: Option<&AccountRow>) {
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

/// The REST API's words for a scope the token lacks.
pub const OUTSIDE_SCOPES: &str = "This action is outside the authorized scopes";

/// Ends, every [`ACCESS_CHECKED_EVERY`] until `stop`, the connections whose
/// access ended: tokens past their expiry, and sessions revoked (sign-out,
/// `/oauth/revoke`, a password change) or whose user may no longer sign in
/// (disabled), by whichever process of the instance, or by the command
/// line. One query per [`ACCESS_CHECK_BATCH`] open sessions.
pub async fn end_lapsed(state: ApiState, stop: tokio_util::sync::CancellationToken) {
    let mut every = tokio::time::interval(ACCESS_CHECKED_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let now = now_millis();
        let mut by_session: HashMap<i64, Vec<Arc<Session>>> = HashMap::new();
        for session in state.streaming.all() {
            let Some(access) = session.access else {
                continue;
            };
            if session.has_ended() {
                continue;
            }
            if access.expires_at <= now {
                session.end();
            } else {
                by_session
                    .entry(access.session_id)
                    .or_default()
                    .push(session);
            }
        }
        let ids: Vec<i64> = by_session.keys().copied().collect();
        for batch in ids.chunks(ACCESS_CHECK_BATCH) {
            match Box::pin(perch_db::oauth::ended_sessions(&state.db, batch)).await {
                Ok(ended) => {
                    for id in ended {
                        for session in by_session.get(&id).into_iter().flatten() {
                            session.end();
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "checking the sessions of open connections failed")
                }
            }
        }
    }
}

/// Apply a subscribe/unsubscribe frame; the answer is an error frame, if
/// any. Other frames (`None` with nothing done) are chat frames.
async fn handle_client_frame(state: &ApiState, session: &Session, text: &str) -> Option<String> {
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
    let stream = match Stream::parse(name, frame.tag.as_deref(), frame.list().as_deref()) {
        Ok(stream) => stream,
        Err(error) => return Some(error_frame(&error.to_string(), 400)),
    };
    if stream.is_private() && session.account_id.is_none() {
        return Some(error_frame("Missing access token", 401));
    }
    // One's own lists only.
    if let (Stream::List(list), Some(me), true) = (&stream, session.account_id, subscribe) {
        match perch_db::lists::find(&state.db, *list, me).await {
            Ok(Some(_)) => {}
            Ok(None) => return Some(error_frame("Record not found", 404)),
            Err(error) => {
                tracing::warn!(%error, "a list subscription could not be checked");
                return Some(error_frame("Internal server error", 500));
            }
        }
    }
    if subscribe && !session.grants.may_subscribe(&stream) {
        return Some(error_frame(OUTSIDE_SCOPES, 403));
    }
    if let Ok(mut subscriptions) = session.subscriptions.lock() {
        if subscribe {
            if subscriptions.len() >= MAX_SUBSCRIPTIONS && !subscriptions.contains_key(&stream) {
                return Some(error_frame(
                    &format!("Too many subscriptions: at most {MAX_SUBSCRIPTIONS} per connection"),
                    400,
                ));
            }
            let names = stream.names_as_asked(frame.tag.as_deref());
            subscriptions.insert(stream, names);
        } else {
            subscriptions.remove(&stream);
        }
    }
    None
}
