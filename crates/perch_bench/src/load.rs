//! The generator's two halves: signed `Create(Note)` requests (and the
//! `Delete`s of their notes) sent at a fixed concurrency, and a poller that watches the server's database
//! until what was accepted is stored.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, anyhow};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method};
use perch_apub::signatures::{SigningKey, sign_request};
use serde_json::json;
use url::Url;

use crate::origin::Origin;
use crate::server::{Counter, TARGET_USER};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
const ACTIVITY_JSON: &str = "application/activity+json";
/// Longest a single request may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the database is counted.
const POLL_EVERY: Duration = Duration::from_millis(150);
/// The poller gives up when the count has not moved for this long after
/// the last request was answered.
const STALL: Duration = Duration::from_secs(60);

/// What an activity does to its note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A public note that mentions the target user, so that the server
    /// has a reason to store it.
    Create,
    /// The note deleted again.
    Delete,
}

/// Which activities a phase sends, by number: a range, or a list.
#[derive(Clone)]
pub enum Seqs {
    Range(Range<usize>),
    List(Arc<Vec<usize>>),
}

impl Seqs {
    /// The `i`-th number.
    fn get(&self, i: usize) -> Option<usize> {
        match self {
            Seqs::Range(range) => (i < range.len()).then(|| range.start + i),
            Seqs::List(list) => list.get(i).copied(),
        }
    }
}

impl From<Range<usize>> for Seqs {
    fn from(range: Range<usize>) -> Seqs {
        Seqs::Range(range)
    }
}

impl From<Vec<usize>> for Seqs {
    fn from(list: Vec<usize>) -> Seqs {
        Seqs::List(Arc::new(list))
    }
}

/// Builds and signs the activities.
pub struct Sender {
    client: reqwest::Client,
    inbox: Url,
    target_actor: String,
    mention_name: String,
    origin: Arc<Origin>,
    /// One per actor (key pairs may be shared, key ids are not).
    keys: Vec<SigningKey>,
    /// Distinguishes this run's ids from any other's.
    run: String,
}

/// A request ready to send.
#[derive(Clone)]
pub struct Signed {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Sender {
    pub fn new(
        server_base: &str,
        origin: Arc<Origin>,
        keys: Vec<SigningKey>,
        concurrency: usize,
    ) -> anyhow::Result<Sender> {
        let server = Url::parse(server_base)?;
        let host = server.host_str().unwrap_or_default();
        let mention_name = match server.port() {
            Some(port) => format!("@{TARGET_USER}@{host}:{port}"),
            None => format!("@{TARGET_USER}@{host}"),
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(concurrency)
            .build()?;
        let run = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        Ok(Sender {
            client,
            inbox: server.join("/inbox")?,
            target_actor: server.join(&format!("/users/{TARGET_USER}"))?.to_string(),
            mention_name,
            origin,
            keys,
            run: format!("{run:x}"),
        })
    }

    pub fn actors(&self) -> usize {
        self.keys.len()
    }

    /// The `kind` activity about note number `seq`, from actor
    /// `seq % actors`.
    fn activity(&self, kind: Kind, seq: usize) -> Vec<u8> {
        let n = seq % self.keys.len();
        let actor = self.origin.actor_uri(n);
        let note = format!("{actor}/statuses/{}-{seq}", self.run);
        if kind == Kind::Delete {
            return json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{note}#delete"),
                "type": "Delete",
                "actor": actor,
                "to": [PUBLIC],
                "object": { "id": note, "type": "Tombstone" },
            })
            .to_string()
            .into_bytes();
        }
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let cc = [self.origin.followers_uri(n), self.target_actor.clone()];
        let content = format!(
            "<p><span class=\"h-card\"><a href=\"{}\" class=\"u-url mention\">@<span>{TARGET_USER}</span></a></span> \
             Load test note {seq}.</p>",
            self.target_actor
        );
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note}/activity"),
            "type": "Create",
            "actor": actor,
            "published": now,
            "to": [PUBLIC],
            "cc": cc,
            "object": {
                "id": note,
                "type": "Note",
                "attributedTo": actor,
                "content": content,
                "published": now,
                "to": [PUBLIC],
                "cc": cc,
                "tag": [{
                    "type": "Mention",
                    "href": self.target_actor,
                    "name": self.mention_name,
                }],
            },
        })
        .to_string()
        .into_bytes()
    }

    /// The `kind` activity about note `seq`, signed now by its actor's key.
    fn sign(&self, kind: Kind, seq: usize) -> anyhow::Result<Signed> {
        let body = self.activity(kind, seq);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
        headers.insert(ACCEPT, HeaderValue::from_static(ACTIVITY_JSON));
        let key = &self.keys[seq % self.keys.len()];
        sign_request(
            key,
            &Method::POST,
            &self.inbox,
            &mut headers,
            Some(&body),
            SystemTime::now(),
        )
        .map_err(|e| anyhow!("signing: {e}"))?;
        Ok(Signed { headers, body })
    }
}

/// What one phase of sending saw.
#[derive(Default)]
pub struct PhaseResult {
    pub sent: usize,
    pub accepted: usize,
    /// Answer times of every answered request, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
    /// Answers other than 202, by status.
    pub other_statuses: BTreeMap<u16, usize>,
    pub transport_errors: usize,
    pub samples: Vec<String>,
    pub elapsed: Duration,
    /// The deadline stopped the phase before every request was sent.
    pub cut_short: bool,
}

impl PhaseResult {
    pub fn answers_per_sec(&self) -> f64 {
        self.accepted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn others(&self) -> usize {
        self.other_statuses.values().sum::<usize>() + self.transport_errors
    }

    /// The `p`th percentile answer time in milliseconds (`p` in 0..=1).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = (p * self.latencies_us.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies_us.len()) - 1;
        self.latencies_us[index] as f64 / 1000.0
    }
}

/// Requests signed ahead of a phase, or none (each is then signed just
/// before it is sent).
pub struct Presigned(Vec<Signed>);

impl Presigned {
    pub fn none() -> Presigned {
        Presigned(Vec::new())
    }
}

/// Sends the `kind` activities of notes `seqs` at `concurrency` requests
/// in flight, signing each one just before it is sent unless `presigned`
/// holds it.
pub async fn send(
    sender: Arc<Sender>,
    kind: Kind,
    seqs: impl Into<Seqs>,
    concurrency: usize,
    presigned: Presigned,
    deadline: Instant,
) -> anyhow::Result<PhaseResult> {
    let seqs = seqs.into();
    let presigned = Arc::new(presigned.0);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let sender = sender.clone();
        let next = next.clone();
        let presigned = presigned.clone();
        let seqs = seqs.clone();
        tasks.push(tokio::spawn(async move {
            let mut result = PhaseResult::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(seq) = seqs.get(i) else {
                    break;
                };
                if Instant::now() >= deadline {
                    result.cut_short = true;
                    break;
                }
                let signed = match presigned.get(i) {
                    Some(signed) => signed.clone(),
                    None => {
                        // RSA signing takes about a millisecond: off the
                        // runtime's threads, so it cannot delay the answers
                        // other tasks are timing.
                        let sender = sender.clone();
                        tokio::task::spawn_blocking(move || sender.sign(kind, seq))
                            .await
                            .context("signing task")??
                    }
                };
                result.sent += 1;
                let start = Instant::now();
                let answer = sender
                    .client
                    .post(sender.inbox.clone())
                    .headers(signed.headers)
                    .body(signed.body)
                    .send()
                    .await;
                match answer {
                    Ok(answer) => {
                        let status = answer.status().as_u16();
                        let text = answer.text().await.unwrap_or_default();
                        result.latencies_us.push(start.elapsed().as_micros() as u64);
                        if status == 202 {
                            result.accepted += 1;
                        } else {
                            *result.other_statuses.entry(status).or_default() += 1;
                            if result.samples.len() < 3 {
                                result.samples.push(format!(
                                    "{status}: {}",
                                    text.chars().take(200).collect::<String>()
                                ));
                            }
                        }
                    }
                    Err(error) => {
                        result.transport_errors += 1;
                        if result.samples.len() < 3 {
                            result.samples.push(format!("transport: {error}"));
                        }
                    }
                }
            }
            anyhow::Ok(result)
        }));
    }
    let mut total = PhaseResult::default();
    for task in tasks {
        let part = task.await.context("sending task")??;
        total.sent += part.sent;
        total.accepted += part.accepted;
        total.latencies_us.extend(part.latencies_us);
        for (status, n) in part.other_statuses {
            *total.other_statuses.entry(status).or_default() += n;
        }
        total.transport_errors += part.transport_errors;
        for sample in part.samples {
            if total.samples.len() < 5 {
                total.samples.push(sample);
            }
        }
        total.cut_short |= part.cut_short;
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    Ok(total)
}

/// Signs every `Create` of a phase, on all cores, before it starts.
pub async fn presign(sender: &Arc<Sender>, seqs: Range<usize>) -> anyhow::Result<Presigned> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = seqs.len().div_ceil(threads).max(1);
    let mut tasks = Vec::new();
    let mut start = seqs.start;
    while start < seqs.end {
        let end = (start + chunk).min(seqs.end);
        let sender = sender.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            (start..end)
                .map(|seq| sender.sign(Kind::Create, seq))
                .collect::<anyhow::Result<Vec<_>>>()
        }));
        start = end;
    }
    let mut all = Vec::with_capacity(seqs.len());
    for task in tasks {
        all.extend(task.await.context("signing task")??);
    }
    Ok(Presigned(all))
}

/// The database's count of remote statuses over time.
pub struct Stored {
    /// (time since the poller started, count), one per poll.
    pub samples: Vec<(Duration, i64)>,
    /// When the count first reached the target.
    pub reached: Option<Duration>,
}

impl Stored {
    /// The last count seen at or before `at`.
    pub fn count_at(&self, at: Duration) -> i64 {
        self.samples
            .iter()
            .take_while(|(t, _)| *t <= at)
            .last()
            .map_or(0, |(_, n)| *n)
    }

    pub fn last(&self) -> i64 {
        self.samples.last().map_or(0, |(_, n)| *n)
    }
}

/// Polls until the count reaches `target` (which may be lowered while it
/// runs, once it is known how many requests were accepted), the deadline
/// passes, or the count stops moving for [`STALL`] after `sending_done`
/// is set.
pub async fn watch_stored(
    counter: &mut Counter,
    target: Arc<AtomicI64>,
    sending_done: Arc<std::sync::atomic::AtomicBool>,
    deadline: Instant,
) -> anyhow::Result<Stored> {
    let started = Instant::now();
    let mut stored = Stored {
        samples: Vec::new(),
        reached: None,
    };
    let mut last_change = Instant::now();
    let mut last = -1;
    loop {
        let count = counter.remote_statuses().await?;
        let at = started.elapsed();
        stored.samples.push((at, count));
        if count != last {
            last = count;
            last_change = Instant::now();
        }
        if count >= target.load(Ordering::Acquire) {
            stored.reached = Some(at);
            return Ok(stored);
        }
        let now = Instant::now();
        let stalled = sending_done.load(Ordering::Acquire) && now - last_change > STALL;
        if now >= deadline || stalled {
            return Ok(stored);
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}
