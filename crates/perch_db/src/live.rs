//! Live events: what changed, told to every process so that each can push
//! it to its own WebSocket clients.
//!
//! An event is small (a kind and ids), never the data itself: each process
//! reads what it needs and renders it once for all its clients. On
//! PostgreSQL events travel by `NOTIFY` on one channel, and every process
//! (the sender too) hears them through `LISTEN`, so one process or ten
//! behave the same; on SQLite (one process) they go straight to the local
//! channel. Events are best effort: a process that is not listening misses
//! them. What must not be missed (chat) is stored and replayed by sequence
//! number instead.

use std::future::Future;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use crate::{Db, Result};

/// The PostgreSQL channel.
const CHANNEL: &str = "perch_live";
/// Events buffered for a slow local consumer before it starts missing some.
const LOCAL_CAPACITY: usize = 8192;
/// Between attempts to listen again after the connection failed.
const RETRY_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    /// A status (or reblog) by `author` was stored.
    StatusCreated { id: i64, author: i64 },
    /// A status was edited.
    StatusUpdated { id: i64, author: i64 },
    /// A status (or reblog) was deleted.
    StatusDeleted { id: i64, author: i64 },
    /// A notification for a local account was stored.
    Notification { account_id: i64, id: i64 },
    /// An event was appended to a local account's log (`user_events`).
    UserEvent { account_id: i64, seq: i64 },
    /// `from` is typing in a chat with local `to` (never stored).
    Typing { chat_id: i64, from: i64, to: i64 },
    /// An account came online or went offline.
    Presence { account_id: i64, online: bool },
    /// A conversation of a local account changed (a status came or went).
    Conversation { account_id: i64, id: i64 },
    /// An announcement was published.
    Announcement { id: i64 },
    /// Someone reacted to an announcement, or took a reaction back.
    AnnouncementReaction { announcement_id: i64, name_id: i64 },
    /// An announcement was deleted.
    AnnouncementDeleted { id: i64 },
}

impl LiveEvent {
    /// The text sent through `NOTIFY`: the kind, then numbers, by colons.
    pub fn encode(&self) -> String {
        match self {
            LiveEvent::StatusCreated { id, author } => format!("status.created:{id}:{author}"),
            LiveEvent::StatusUpdated { id, author } => format!("status.updated:{id}:{author}"),
            LiveEvent::StatusDeleted { id, author } => format!("status.deleted:{id}:{author}"),
            LiveEvent::Notification { account_id, id } => {
                format!("notification:{account_id}:{id}")
            }
            LiveEvent::UserEvent { account_id, seq } => format!("user:{account_id}:{seq}"),
            LiveEvent::Typing { chat_id, from, to } => format!("typing:{chat_id}:{from}:{to}"),
            LiveEvent::Presence { account_id, online } => {
                format!("presence:{account_id}:{}", i64::from(*online))
            }
            LiveEvent::Conversation { account_id, id } => {
                format!("conversation:{account_id}:{id}")
            }
            LiveEvent::Announcement { id } => format!("announcement:{id}"),
            LiveEvent::AnnouncementReaction {
                announcement_id,
                name_id,
            } => format!("announcement.reaction:{announcement_id}:{name_id}"),
            LiveEvent::AnnouncementDeleted { id } => format!("announcement.deleted:{id}"),
        }
    }

    pub fn decode(text: &str) -> Option<LiveEvent> {
        let mut parts = text.split(':');
        let kind = parts.next()?;
        let numbers: Vec<i64> = parts.map(str::parse).collect::<Result<_, _>>().ok()?;
        Some(match (kind, numbers.as_slice()) {
            ("status.created", [id, author]) => LiveEvent::StatusCreated {
                id: *id,
                author: *author,
            },
            ("status.updated", [id, author]) => LiveEvent::StatusUpdated {
                id: *id,
                author: *author,
            },
            ("status.deleted", [id, author]) => LiveEvent::StatusDeleted {
                id: *id,
                author: *author,
            },
            ("notification", [account_id, id]) => LiveEvent::Notification {
                account_id: *account_id,
                id: *id,
            },
            ("user", [account_id, seq]) => LiveEvent::UserEvent {
                account_id: *account_id,
                seq: *seq,
            },
            ("typing", [chat_id, from, to]) => LiveEvent::Typing {
                chat_id: *chat_id,
                from: *from,
                to: *to,
            },
            ("presence", [account_id, online @ (0 | 1)]) => LiveEvent::Presence {
                account_id: *account_id,
                online: *online == 1,
            },
            ("conversation", [account_id, id]) => LiveEvent::Conversation {
                account_id: *account_id,
                id: *id,
            },
            ("announcement", [id]) => LiveEvent::Announcement { id: *id },
            ("announcement.reaction", [announcement_id, name_id]) => {
                LiveEvent::AnnouncementReaction {
                    announcement_id: *announcement_id,
                    name_id: *name_id,
                }
            }
            ("announcement.deleted", [id]) => LiveEvent::AnnouncementDeleted { id: *id },
            _ => return None,
        })
    }
}

/// Between the events of one notification.
const SEPARATOR: char = ' ';
/// Longest notification payload: PostgreSQL refuses 8,000 bytes and more.
const MAX_PAYLOAD: usize = 7_900;

/// Events encoded into as few notification payloads as fit, in order.
fn batch_payloads(events: &[LiveEvent]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::new();
    for event in events {
        let text = event.encode();
        if !current.is_empty() && current.len() + 1 + text.len() > MAX_PAYLOAD {
            payloads.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(SEPARATOR);
        }
        current.push_str(&text);
    }
    if !current.is_empty() {
        payloads.push(current);
    }
    payloads
}

/// The event bus of one process. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Bus {
    db: Db,
    local: broadcast::Sender<LiveEvent>,
}

impl Bus {
    pub fn new(db: Db) -> Bus {
        let (local, _) = broadcast::channel(LOCAL_CAPACITY);
        Bus { db, local }
    }

    /// Events as this process hears them (its own and, on PostgreSQL, every
    /// other process's).
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.local.subscribe()
    }

    /// Hand events to this process's consumers only, as if heard from the
    /// database (tests use it to flood the channel deterministically).
    pub fn hear(&self, events: &[LiveEvent]) {
        for event in events {
            let _ = self.local.send(*event);
        }
    }

    /// The events a slow consumer may fall behind by before it misses some.
    pub const CAPACITY: usize = LOCAL_CAPACITY;

    /// Tell every process. Call after the change is committed. Failures are
    /// logged: live updates are a convenience, the data is stored.
    pub async fn publish(&self, events: &[LiveEvent]) {
        match &self.db {
            Db::Sqlite(_) => {
                for event in events {
                    // No receiver yet is fine: nobody is connected.
                    let _ = self.local.send(*event);
                }
            }
            Db::Postgres(pool) => {
                // One notification for a change's events (each commit of a
                // `NOTIFY` takes a database-wide lock), in as few as fit.
                for payload in batch_payloads(events) {
                    let sent = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(payload)
                        .execute(pool)
                        .await;
                    if let Err(error) = sent {
                        tracing::warn!(%error, "live events could not be sent");
                    }
                }
            }
        }
    }

    /// Start hearing other processes: on PostgreSQL, `LISTEN` now (so that
    /// nothing published after this returns is missed) and return the task
    /// that forwards what arrives to the local channel until `stop`. On
    /// SQLite there is nothing to hear.
    pub async fn listen(
        &self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Option<impl Future<Output = ()> + Send + 'static>> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        let local = self.local.clone();
        Ok(Some(async move {
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    () = &mut stop => return,
                    received = listener.recv() => match received {
                        Ok(notification) => {
                            for text in notification.payload().split(SEPARATOR) {
                                match LiveEvent::decode(text) {
                                    Some(event) => {
                                        let _ = local.send(event);
                                    }
                                    None => tracing::warn!(
                                        payload = text,
                                        "an unknown live event was ignored"
                                    ),
                                }
                            }
                        }
                        // The listener reconnects by itself on the next
                        // call; events sent meanwhile are missed. A pause
                        // keeps a database outage from spinning this loop.
                        Err(error) => {
                            tracing::warn!(%error, "listening for live events failed");
                            tokio::select! {
                                () = &mut stop => return,
                                () = tokio::time::sleep(RETRY_PAUSE) => {}
                            }
                        }
                    },
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_batched_into_payloads_that_fit() {
        assert!(batch_payloads(&[]).is_empty());
        let events: Vec<LiveEvent> = (0..1_000)
            .map(|n| LiveEvent::UserEvent {
                account_id: i64::MAX - n,
                seq: i64::MAX - n,
            })
            .collect();
        let payloads = batch_payloads(&events);
        assert!(payloads.len() > 1, "{} payloads", payloads.len());
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let decoded: Vec<LiveEvent> = payloads
            .iter()
            .flat_map(|p| p.split(SEPARATOR))
            .map(|text| LiveEvent::decode(text).expect("decodes"))
            .collect();
        assert_eq!(decoded, events);
    }

    #[test]
    fn events_round_trip_through_text() {
        for event in [
            LiveEvent::StatusCreated { id: 1, author: 2 },
            LiveEvent::StatusUpdated {
                id: i64::MAX,
                author: i64::MIN,
            },
            LiveEvent::StatusDeleted { id: 42, author: 7 },
            LiveEvent::Notification {
                account_id: 7,
                id: 9,
            },
            LiveEvent::Conversation {
                account_id: 7,
                id: 11,
            },
            LiveEvent::Announcement { id: 3 },
            LiveEvent::AnnouncementReaction {
                announcement_id: 3,
                name_id: 4,
            },
            LiveEvent::AnnouncementDeleted { id: 3 },
        ] {
            assert_eq!(LiveEvent::decode(&event.encode()), Some(event));
        }
        for bad in [
            "",
            "status.created",
            "status.created:x",
            "notification:1",
            "x:1",
            "status.created:1:2:3",
        ] {
            assert_eq!(LiveEvent::decode(bad), None, "{bad}");
        }
    }
}
