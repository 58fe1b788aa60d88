//! One phase of the chat scenario's traffic: every connection sends on a
//! schedule and reads whatever arrives, in one task per connection, and
//! the time from a send to its arrival is measured on one clock.
//!
//! Message `m` (0 ≤ m < rate × seconds) is sent by user `m % users` at
//! `start + m / rate`, so that the aggregate rate is even; in a chat phase
//! it goes to the user's partner as a `chat_message` frame whose content is
//! `m{m}`, in a ping phase it is a WebSocket ping whose payload is `m`. The
//! send time is stamped just before the frame is written; the latency is
//! the time the recipient's task read the frame (the partner's
//! `chat_message` event, or the pong) minus that stamp. Each message counts
//! once (a second pong for the same ping is passed over).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::ws::{Latencies, Ws};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// WebSocket pings, answered by the server's session loop.
    Ping,
    /// Chat messages to the partner.
    Chat,
}

/// A connected user: whom it chats with, and in which chat.
pub struct Member {
    pub partner: usize,
    pub chat_id: String,
}

pub struct Plan {
    pub kind: Kind,
    pub users: usize,
    /// Messages per second, all users together.
    pub rate: f64,
    pub seconds: f64,
    /// How long to wait for what is still on its way after the last send.
    pub drain: Duration,
}

impl Plan {
    fn total(&self) -> usize {
        (self.rate * self.seconds).round() as usize
    }

    /// How many messages `user` sends.
    fn sends_of(&self, user: usize) -> usize {
        let total = self.total();
        if user >= total {
            0
        } else {
            (total - 1 - user) / self.users + 1
        }
    }

    fn send_at(&self, start: Instant, message: usize) -> Instant {
        start + Duration::from_secs_f64(message as f64 / self.rate)
    }
}

/// What a phase measured.
#[derive(Default)]
pub struct Outcome {
    pub latencies: Latencies,
    pub sent: usize,
    /// Frames from the server that were errors.
    pub errors: usize,
    pub error_sample: Option<String>,
    /// Connections that closed or failed during the phase.
    pub closed: usize,
    /// From the first scheduled send to the last send.
    pub sending: Duration,
}

impl Outcome {
    pub fn received(&self) -> usize {
        self.latencies.len()
    }

    pub fn lost(&self) -> usize {
        self.sent.saturating_sub(self.received())
    }

    fn merge(&mut self, part: Outcome) {
        self.latencies.extend(part.latencies);
        self.sent += part.sent;
        self.errors += part.errors;
        if self.error_sample.is_none() {
            self.error_sample = part.error_sample;
        }
        self.closed += part.closed;
        self.sending = self.sending.max(part.sending);
    }
}

/// When every message of a phase was sent, as nanoseconds since its start
/// plus one (zero: not sent, or already received).
struct Stamps {
    start: Instant,
    sent: Vec<AtomicU64>,
    /// This phase's number in the run: part of every message's `client_id`,
    /// which the server keeps unique per sender (a repeated one is the
    /// same message, sent again).
    phase: usize,
}

/// Phases started so far in this run.
static PHASES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Stamps {
    fn stamp(&self, message: usize) {
        let nanos = self.start.elapsed().as_nanos() as u64 + 1;
        self.sent[message].store(nanos, Ordering::Release);
    }

    /// The latency of `message`, the first time it arrives.
    fn arrived(&self, message: usize) -> Option<Duration> {
        let now = self.start.elapsed().as_nanos() as u64 + 1;
        let sent = self.sent.get(message)?.swap(0, Ordering::AcqRel);
        (sent != 0).then(|| Duration::from_nanos(now.saturating_sub(sent)))
    }
}

/// Runs a phase on `sockets` (the n-th is user n's) and gives them back,
/// `None` where one closed.
pub async fn run(
    plan: Plan,
    members: Arc<Vec<Member>>,
    sockets: Vec<Ws>,
    deadline: Instant,
) -> (Vec<Option<Ws>>, Outcome) {
    let plan = Arc::new(plan);
    // Half a second for every task to be waiting before the first send.
    let start = Instant::now() + Duration::from_millis(500);
    let end = deadline.min(plan.send_at(start, plan.total()) + plan.drain);
    let stamps = Arc::new(Stamps {
        start,
        sent: (0..plan.total()).map(|_| AtomicU64::new(0)).collect(),
        phase: PHASES.fetch_add(1, Ordering::Relaxed),
    });
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(me, ws)| {
            let (plan, members, stamps) = (plan.clone(), members.clone(), stamps.clone());
            tokio::spawn(drive(ws, me, plan, members, stamps, end))
        })
        .collect();
    let mut sockets = Vec::with_capacity(tasks.len());
    let mut outcome = Outcome::default();
    for task in tasks {
        match task.await {
            Ok((ws, part)) => {
                sockets.push(ws);
                outcome.merge(part);
            }
            Err(_) => {
                sockets.push(None);
                outcome.closed += 1;
            }
        }
    }
    (sockets, outcome)
}

/// One user's side of a phase.
async fn drive(
    mut ws: Ws,
    me: usize,
    plan: Arc<Plan>,
    members: Arc<Vec<Member>>,
    stamps: Arc<Stamps>,
    end: Instant,
) -> (Option<Ws>, Outcome) {
    let mut part = Outcome::default();
    let member = &members[me];
    let mine = plan.sends_of(me);
    let expected = match plan.kind {
        Kind::Ping => mine,
        Kind::Chat => plan.sends_of(member.partner),
    };
    let end = tokio::time::Instant::from_std(end);
    let mut k = 0;
    loop {
        if k == mine && part.latencies.len() >= expected {
            break;
        }
        let message = me + k * plan.users;
        let next = tokio::time::Instant::from_std(plan.send_at(stamps.start, message));
        tokio::select! {
            () = tokio::time::sleep_until(next), if k < mine => {
                stamps.stamp(message);
                let frame = match plan.kind {
                    Kind::Ping => Message::Ping((message as u64).to_be_bytes().to_vec().into()),
                    Kind::Chat => Message::text(json!({
                        "type": "chat_message",
                        "chat_id": member.chat_id,
                        "content": format!("m{message}"),
                        "client_id": format!("p{}m{message}", stamps.phase),
                    }).to_string()),
                };
                if ws.send(frame).await.is_err() {
                    part.closed += 1;
                    return (None, part);
                }
                part.sent += 1;
                k += 1;
                if k == mine {
                    part.sending = stamps.start.elapsed();
                }
            }
            () = tokio::time::sleep_until(end) => break,
            received = ws.next() => match received {
                Some(Ok(Message::Pong(data))) if plan.kind == Kind::Ping => {
                    let number = <[u8; 8]>::try_from(data.as_ref()).map(u64::from_be_bytes);
                    if let Some(latency) = number.ok().and_then(|n| stamps.arrived(n as usize)) {
                        part.latencies.push(latency);
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
                    if frame.get("error").is_some() {
                        part.errors += 1;
                        part.error_sample.get_or_insert_with(|| text.to_string());
                    } else if plan.kind == Kind::Chat && frame["event"] == "chat_message" {
                        let from_partner = chat_number(&frame)
                            .filter(|m| m % plan.users == member.partner);
                        if let Some(latency) = from_partner.and_then(|m| stamps.arrived(m)) {
                            part.latencies.push(latency);
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    part.closed += 1;
                    return (None, part);
                }
                Some(Ok(_)) => {}
            },
        }
    }
    (Some(ws), part)
}

/// The number `m` of a `chat_message` event whose content is `m{m}`
/// (rendered as HTML: `<p>m123</p>`).
fn chat_number(frame: &Value) -> Option<usize> {
    let payload: Value = serde_json::from_str(frame["payload"].as_str()?).ok()?;
    payload["content"]
        .as_str()?
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|word| word.strip_prefix('m')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_one_sender_and_a_time() {
        let plan = Plan {
            kind: Kind::Chat,
            users: 4,
            rate: 10.0,
            seconds: 1.1,
            drain: Duration::ZERO,
        };
        assert_eq!(plan.total(), 11);
        let sends: usize = (0..4).map(|u| plan.sends_of(u)).sum();
        assert_eq!(sends, 11);
        assert_eq!(plan.sends_of(0), 3);
        assert_eq!(plan.sends_of(3), 2);
        let start = Instant::now();
        assert_eq!(plan.send_at(start, 5) - start, Duration::from_millis(500));
    }

    #[test]
    fn the_number_is_read_from_the_rendered_content() {
        let payload = json!({ "content": "<p>m1234</p>" }).to_string();
        let frame = json!({ "event": "chat_message", "payload": payload });
        assert_eq!(chat_number(&frame), Some(1234));
    }
}
