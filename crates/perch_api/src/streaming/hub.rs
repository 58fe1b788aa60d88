//! The hub: turns live events into frames and offers them to the
//! connections that may see them.
//!
//! Each event is read from the database and rendered once per process,
//! whatever the number of connections; what a connection receives is
//! decided by the same rules as the REST API (a status reaches the `user`
//! stream of the accounts whose home feed holds it, a `list` stream when
//! the list's timeline holds it, the public streams only
//! when it is public, `direct` the conversations of its account, and none
//! reaches an account its author is kept from); each reader's filters then
//! apply to what it gets (see `filters`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use perch_core::status::Visibility;
use perch_db::blocks;
use perch_db::chats::MessageRow;
use perch_db::live::LiveEvent;
use perch_db::notifications;
use perch_db::presence;
use perch_db::statuses;
use perch_db::user_events::{self, EventRow};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::filters::{Delivery, Readers};
use super::frames;
use super::session::{self, Registry, Session};
use super::streams::{Stream, event_frame, named_event_frame};
use crate::notifications::render_one as render_notification;
use crate::statuses::view::render_one;
use crate::{ApiError, ApiState};

/// Events are rendered in this many lanes at once; each lane keeps the
/// order of the events it is given.
const LANES: usize = 16;
/// Events waiting in one lane before the hub waits for it.
const LANE_CAPACITY: usize = 1024;

/// Run until `stop`: every live event this process hears goes to its
/// connections.
///
/// Rendering an event reads the database, so events are spread over
/// [`LANES`] tasks: those about one account (or one status) always take
/// the same lane, in the order they came. When every lane is full the hub
/// stops reading, the events channel fills and the hub misses events; it
/// then has every signed-in connection catch up from its account's log, so
/// that what is stored (chat, and everything numbered) still arrives.
pub async fn hub(
    state: ApiState,
    mut events: broadcast::Receiver<LiveEvent>,
    stop: CancellationToken,
) {
    let mut lanes = Vec::with_capacity(LANES);
    let mut workers = JoinSet::new();
    workers.spawn(session::end_lapsed(state.clone(), stop.clone()));
    for _ in 0..LANES {
        let (lane, queued) = mpsc::channel(LANE_CAPACITY);
        workers.spawn(run_lane(state.clone(), queued));
        lanes.push(lane);
    }
    loop {
        let event = tokio::select! {
            () = stop.cancelled() => break,
            event = events.recv() => event,
        };
        match event {
            Ok(event) => {
                if state.streaming.is_empty() {
                    continue;
                }
                let lane = &lanes[lane_of(&event) % LANES];
                tokio::select! {
                    () = stop.cancelled() => break,
                    sent = lane.send(event) => if sent.is_err() { break },
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "the streaming hub fell behind; connections catch up from the log"
                );
                metrics::counter!("perch_streaming_events_missed").increment(missed);
                for session in state.streaming.all() {
                    if session.hears_chat() {
                        session.catch_up();
                    }
                }
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
    drop(lanes);
    workers.shutdown().await;
}

/// Which lane an event takes: by the account it is for, or, for a
/// status, by its author, so that one account's posts, edits and
/// deletions reach each stream in the order they were made.
fn lane_of(event: &LiveEvent) -> usize {
    let key = match *event {
        LiveEvent::StatusCreated { author, .. }
        | LiveEvent::StatusUpdated { author, .. }
        | LiveEvent::StatusDeleted { author, .. } => author,
        LiveEvent::Notification { account_id, .. }
        | LiveEvent::UserEvent { account_id, .. }
        | LiveEvent::Presence { account_id, .. }
        | LiveEvent::Conversation { account_id, .. } => account_id,
        LiveEvent::Announcement { id }
        | LiveEvent::AnnouncementDeleted { id }
        | LiveEvent::AnnouncementReaction {
            announcement_id: id,
            ..
        } => id,
        LiveEvent::Typing { to, .. } => to,
    };
    // Snowflake-like ids end in a sequence; mix so that lanes fill evenly.
    (key.unsigned_abs().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
}

async fn run_lane(state: ApiState, mut queued: mpsc::Receiver<LiveEvent>) {
    let mut batch = Vec::with_capacity(LANE_BATCH);
    while queued.recv_many(&mut batch, LANE_BATCH).await > 0 {
        dispatch_batch(&state, &batch).await;
        batch.clear();
    }
}

/// Events a lane takes at once: what waits in it when it comes round,
/// up to this many. Their log rows and messages are read together.
const LANE_BATCH: usize = 64;

/// What a batch's log events refer to, read ahead in two queries.
#[derive(Default)]
struct LogRows {
    events: HashMap<(i64, i64), EventRow>,
    messages: HashMap<i64, MessageRow>,
}

/// A lane's batch, in order; each event's failure is logged and the
/// others go on.
async fn dispatch_batch(state: &ApiState, batch: &[LiveEvent]) {
    let logs = read_logs(state, batch).await.unwrap_or_else(|error| {
        tracing::warn!(
            error = error.message(),
            "log events could not be read; their live frames are not sent"
        );
        LogRows::default()
    });
    for &event in batch {
        let sent = match event {
            LiveEvent::UserEvent { account_id, seq } => user_event(state, &logs, account_id, seq),
            _ => dispatch(state, event).await,
        };
        if let Err(error) = sent {
            tracing::warn!(
                ?event,
                error = error.message(),
                "a live event was not delivered"
            );
        }
    }
}

/// The log rows of the batch's events for accounts connected here, and
/// the messages they refer to.
async fn read_logs(state: &ApiState, batch: &[LiveEvent]) -> Result<LogRows, ApiError> {
    let keys: Vec<(i64, i64)> = batch
        .iter()
        .filter_map(|event| match *event {
            LiveEvent::UserEvent { account_id, seq } if state.streaming.has_account(account_id) => {
                Some((account_id, seq))
            }
            _ => None,
        })
        .collect();
    if keys.is_empty() {
        return Ok(LogRows::default());
    }
    let rows = user_events::find_many(&state.db, &keys).await?;
    let messages = frames::messages_of(state, &rows).await?;
    Ok(LogRows {
        events: rows
            .into_iter()
            .map(|row| ((row.account_id, row.seq), row))
            .collect(),
        messages,
    })
}

/// A logged event to the account's connections that hear chat.
fn user_event(state: &ApiState, logs: &LogRows, account_id: i64, seq: i64) -> Result<(), ApiError> {
    let Some(row) = logs.events.get(&(account_id, seq)) else {
        return Ok(());
    };
    let sessions = state.streaming.of_account(account_id);
    if let Some(frame) = frames::render_event(account_id, row, &logs.messages)? {
        let frame: Utf8Bytes = frame.into();
        for session in sessions.iter().filter(|s| s.hears_chat()) {
            session.push_numbered(frame.clone(), seq);
        }
    }
    Ok(())
}

async fn dispatch(state: &ApiState, event: LiveEvent) -> Result<(), ApiError> {
    let registry = &state.streaming;
    match event {
        LiveEvent::StatusCreated { id, .. } => status_event(state, registry, id, "update").await,
        LiveEvent::StatusUpdated { id, .. } => {
            status_event(state, registry, id, "status.update").await
        }
        LiveEvent::StatusDeleted { id, .. } => {
            // The status is gone, and with it who saw it: everyone hears
            // the id, which tells nothing about the status.
            let id = id.to_string();
            for session in registry.all().iter().filter(|s| s.grants.statuses) {
                for stream in session.subscriptions() {
                    let names = session.own_names(&stream).unwrap_or_else(|| stream.names());
                    session.push(named_event_frame(&names, "delete", &id).into());
                }
            }
            Ok(())
        }
        LiveEvent::Conversation { account_id, id } => conversation(state, account_id, id).await,
        LiveEvent::Announcement { id } => {
            if let Some(rendered) = crate::announcements::for_stream(state, id).await? {
                to_users(registry, "announcement", &rendered.to_string());
            }
            Ok(())
        }
        LiveEvent::AnnouncementReaction { name_id, .. } => {
            if let Some(payload) = crate::announcements::reaction_for_stream(state, name_id).await?
            {
                to_users(registry, "announcement.reaction", &payload.to_string());
            }
            Ok(())
        }
        LiveEvent::AnnouncementDeleted { id } => {
            to_users(registry, "announcement.delete", &id.to_string());
            Ok(())
        }
        // Read ahead with the rest of its batch (`dispatch_batch`).
        LiveEvent::UserEvent { .. } => Ok(()),
        LiveEvent::Typing { chat_id, from, to } => {
            let sessions = registry.of_account(to);
            if sessions.is_empty() {
                return Ok(());
            }
            if let Some(frame) = frames::typing_frame(state, chat_id, from).await? {
                let frame: Utf8Bytes = frame.into();
                for session in sessions.iter().filter(|s| s.hears_chat()) {
                    session.push(frame.clone());
                }
            }
            Ok(())
        }
        LiveEvent::Presence { account_id, online } => {
            let partners = presence::local_partners(&state.db, account_id).await?;
            let sessions: Vec<Arc<Session>> = partners
                .iter()
                .flat_map(|&partner| registry.of_account(partner))
                .filter(|s| s.hears_chat())
                .collect();
            if sessions.is_empty() {
                return Ok(());
            }
            let frame: Utf8Bytes = frames::presence_frame(state, account_id, online)
                .await?
                .into();
            for session in sessions {
                session.push(frame.clone());
            }
            Ok(())
        }
        LiveEvent::Notification { account_id, id } => {
            let sessions = registry.of_account(account_id);
            if sessions.is_empty() {
                return Ok(());
            }
            let Some(row) = notifications::find(&state.db, account_id, id).await? else {
                return Ok(());
            };
            let Some(rendered) = render_notification(state, account_id, &row).await? else {
                return Ok(());
            };
            let payload = serde_json::to_string(&rendered).map_err(|e| ApiError::internal(&e))?;
            for stream in [Stream::User, Stream::UserNotification] {
                let frame: Utf8Bytes = event_frame(&stream, "notification", &payload).into();
                for session in sessions
                    .iter()
                    .filter(|s| s.grants.notifications && s.is_subscribed(&stream))
                {
                    session.push(frame.clone());
                }
            }
            Ok(())
        }
    }
}

/// An `update` or `status.update` to every stream the status belongs on.
async fn status_event(
    state: &ApiState,
    registry: &Registry,
    id: i64,
    event: &str,
) -> Result<(), ApiError> {
    let Some(row) = statuses::find_by_id(&state.db, id).await? else {
        return Ok(());
    };
    let reblogged_author = match row.reblog_of_id {
        Some(original) => statuses::find_by_id(&state.db, original)
            .await?
            .map(|o| o.account_id),
        None => None,
    };
    // Those the author (or the reblogged author) is kept from hear nothing
    // of it, on any stream: the rule of the timelines, read once here.
    let kept = blocks::kept_from_authors(&state.db, row.account_id, reblogged_author).await?;
    let sessions: Vec<Arc<Session>> = registry
        .all()
        .into_iter()
        .filter(|s| s.account_id.is_none_or(|a| !kept.contains(&a)))
        .collect();
    let rendered = render_one(state, 0, &row).await?;
    let payload = serde_json::to_string(&rendered).map_err(|e| ApiError::internal(&e))?;
    let readers = Readers::load(state, &sessions, &row, &rendered).await?;
    let send = |stream: Stream, accepts: &dyn Fn(&Session) -> bool| {
        let frame: Utf8Bytes = event_frame(&stream, event, &payload).into();
        for session in sessions
            .iter()
            .filter(|s| s.grants.statuses && s.is_subscribed(&stream) && accepts(s))
        {
            match readers.delivery(session.account_id, &stream, event) {
                Ok(Delivery::Shared) => match session.own_names(&stream) {
                    // A hashtag spelled otherwise: rare, so framed apart.
                    Some(names) => session.push(named_event_frame(&names, event, &payload).into()),
                    None => session.push(frame.clone()),
                },
                Ok(Delivery::Own(own)) => session.push(own),
                Ok(Delivery::LeftOut) => {}
                Err(error) => tracing::warn!(
                    error = error.message(),
                    "a filtered status could not be rendered for its reader"
                ),
            }
        }
    };

    let home: HashSet<i64> = statuses::home_feed_accounts(&state.db, id)
        .await?
        .into_iter()
        .collect();
    send(Stream::User, &|s| {
        s.account_id.is_some_and(|a| home.contains(&a))
    });
    for (list, owner) in perch_db::lists::feeds_of(&state.db, id).await? {
        send(Stream::List(list), &|s| s.account_id == Some(owner));
    }

    let visibility = Visibility::from_i16(row.visibility);
    if visibility == Visibility::Public && row.reblog_of_id.is_none() {
        send(Stream::Public, &|_| true);
        send(
            if row.local {
                Stream::PublicLocal
            } else {
                Stream::PublicRemote
            },
            &|_| true,
        );
        if !rendered.media_attachments.is_empty() {
            send(Stream::PublicMedia, &|_| true);
            send(
                if row.local {
                    Stream::PublicLocalMedia
                } else {
                    Stream::PublicRemoteMedia
                },
                &|_| true,
            );
        }
        for (_, tag) in statuses::tags_of(&state.db, &[id]).await? {
            send(Stream::Hashtag(tag.clone()), &|_| true);
            if row.local {
                send(Stream::HashtagLocal(tag), &|_| true);
            }
        }
    }
    Ok(())
}

/// An event about announcements to every signed-in connection on the
/// `user` stream, as Mastodon sends them to every local user.
fn to_users(registry: &Registry, event: &str, payload: &str) {
    let frame: Utf8Bytes = event_frame(&Stream::User, event, payload).into();
    for session in registry
        .all()
        .iter()
        .filter(|s| s.account_id.is_some() && s.is_subscribed(&Stream::User))
    {
        session.push(frame.clone());
    }
}

/// A changed conversation to its account's `direct` streams, as
/// Mastodon's `conversation` event.
async fn conversation(state: &ApiState, account_id: i64, id: i64) -> Result<(), ApiError> {
    let sessions: Vec<Arc<Session>> = state
        .streaming
        .of_account(account_id)
        .into_iter()
        .filter(|s| s.grants.statuses && s.is_subscribed(&Stream::Direct))
        .collect();
    if sessions.is_empty() {
        return Ok(());
    }
    let Some(rendered) = crate::conversations::for_stream(state, account_id, id).await? else {
        return Ok(());
    };
    let payload = serde_json::to_string(&rendered).map_err(|e| ApiError::internal(&e))?;
    let frame: Utf8Bytes = event_frame(&Stream::Direct, "conversation", &payload).into();
    for session in sessions {
        session.push(frame.clone());
    }
    Ok(())
}
