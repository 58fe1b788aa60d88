//! Filling the server's database directly, while the server is stopped:
//! a million statuses through the API would take hours, through bulk
//! writes they take seconds.
//!
//! The rows are those the server itself would have written had it received
//! the same activities (see [`model`] for what is generated): remote
//! accounts with their keys as fetched from the origin that serves them,
//! `target`'s follows of the first `followed` of them with both counters,
//! statuses with their mentions, tags, attachments and counters, the
//! `mention` notifications of `target`, and `target`'s home feed as
//! fan-out on write fills it and retention trims it (the newest
//! [`HOME_FEED_ENTRIES`] entries). A batch is written in one transaction;
//! rows are generated on another thread while the previous chunk is
//! written.

mod model;
mod postgres;
mod sqlite;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use self::model::{Chunk, TAGS, snowflake, tag_id, tag_name};
pub use self::model::{STEP_MS, World};
use self::postgres::PgWriter;
use self::sqlite::SqliteWriter;
use crate::server::Database;

/// Entries retention keeps in a home feed (perch_server's maintenance).
pub const HOME_FEED_ENTRIES: i64 = 800;
/// Statuses generated and written at a time.
const CHUNK: usize = 10_000;

/// Deletes all but the newest `$2 + 1` entries of account `$1`'s feed, as
/// retention does.
const TRIM_HOME_FEED: &str = "DELETE FROM home_feed WHERE account_id = $1 AND status_id < (\
     SELECT status_id FROM home_feed WHERE account_id = $1 \
     ORDER BY status_id DESC LIMIT 1 OFFSET $2)";

/// The oldest entry of account `$1`'s feed.
const OLDEST_KEPT: &str = "SELECT MIN(status_id) FROM home_feed WHERE account_id = $1";

/// A remote account and its key.
pub struct Account {
    pub id: i64,
    pub username: String,
    pub domain: String,
    pub uri: String,
    pub display_name: String,
    pub shared_inbox: String,
    pub public_key_pem: String,
    pub followers_count: i64,
    pub fetched_at: i64,
    pub created_at: i64,
}

pub struct Follow {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    pub uri: String,
    pub created_at: i64,
}

/// What is written once, with the first batch.
pub struct AccountRows {
    pub accounts: Vec<Account>,
    /// The follower (`target`), whose `following_count` grows.
    pub follower_id: i64,
    pub follows: Vec<Follow>,
    /// `(id, name, created_at)`.
    pub tags: Vec<(i64, String, i64)>,
}

/// What a batch adds up to, applied when it ends.
#[derive(Default)]
pub struct BatchTotals {
    /// Account id → (statuses, latest `created_at`).
    pub posted: HashMap<i64, (i64, i64)>,
    /// Status id → (replies, reblogs) to add to a status of an earlier batch.
    pub older_counts: HashMap<i64, (i64, i64)>,
    /// The newest statuses of the batch that enter the home feed.
    pub home_feed: Vec<i64>,
}

impl BatchTotals {
    fn add(&mut self, world: &World, chunk: &mut Chunk) {
        for (k, (count, last)) in chunk.posted.drain() {
            let entry = self.posted.entry(world.account_id(k)).or_insert((0, 0));
            entry.0 += count;
            entry.1 = entry.1.max(last);
        }
        for (id, (replies, reblogs)) in chunk.older_counts.drain() {
            let entry = self.older_counts.entry(id).or_default();
            entry.0 += replies;
            entry.1 += reblogs;
        }
        self.home_feed.append(&mut chunk.home_feed);
        let keep = HOME_FEED_ENTRIES as usize;
        if self.home_feed.len() > 2 * keep {
            self.home_feed.drain(..self.home_feed.len() - keep);
        }
    }
}

enum Writer {
    Sqlite(SqliteWriter),
    Postgres(PgWriter),
}

impl Writer {
    async fn open(database: &Database) -> anyhow::Result<Writer> {
        Ok(match database {
            Database::Sqlite { path } => Writer::Sqlite(SqliteWriter::open(path).await?),
            Database::Postgres { url, .. } => Writer::Postgres(PgWriter::open(url).await?),
        })
    }

    async fn accounts(&mut self, rows: &AccountRows) -> anyhow::Result<()> {
        match self {
            Writer::Sqlite(w) => w.accounts(rows).await,
            Writer::Postgres(w) => w.accounts(rows).await,
        }
    }

    async fn chunk(&mut self, world: &World, chunk: &Chunk) -> anyhow::Result<()> {
        match self {
            Writer::Sqlite(w) => w.chunk(world, chunk).await,
            Writer::Postgres(w) => w.chunk(world, chunk).await,
        }
    }

    async fn finish(self, world: &World, totals: &BatchTotals) -> anyhow::Result<Option<i64>> {
        match self {
            Writer::Sqlite(w) => w.finish(world, totals).await,
            Writer::Postgres(w) => w.finish(world, totals).await,
        }
    }
}

/// What a batch wrote.
pub struct Written {
    pub statuses: usize,
    pub mentions: usize,
    pub media: usize,
    pub tags: usize,
    pub notifications: usize,
    /// The oldest status the home feed keeps.
    pub oldest_kept: Option<i64>,
    pub elapsed: Duration,
}

/// The accounts (with `public_pems` shared round-robin, as the origin
/// serves them), follows and tags, written with the first batch.
pub fn account_rows(world: &World, public_pems: &[String]) -> AccountRows {
    let domain = world.domain().to_owned();
    let accounts = (0..world.accounts)
        .map(|k| Account {
            id: world.account_id(k),
            username: format!("a{k}"),
            domain: domain.clone(),
            uri: world.actor_uri(k),
            display_name: format!("Bench actor {k}"),
            shared_inbox: format!("{}/inbox", world.origin),
            public_key_pem: public_pems[k % public_pems.len()].clone(),
            followers_count: i64::from(k < world.followed),
            fetched_at: world.fetched_at,
            created_at: world.account_created_at(k),
        })
        .collect();
    let follows = (0..world.followed)
        .map(|k| {
            let created_at = world.t0 - 3_600_000 + k as i64;
            let id = snowflake(created_at, 0);
            Follow {
                id,
                account_id: world.target_id,
                target_account_id: world.account_id(k),
                uri: format!("{}/activities/{id}", world.server),
                created_at,
            }
        })
        .collect();
    let tags = (0..TAGS)
        .map(|i| (tag_id(world, i), tag_name(i), world.t0))
        .collect();
    AccountRows {
        accounts,
        follower_id: world.target_id,
        follows,
        tags,
    }
}

/// Writes statuses `range` (and, when `accounts` is given, the accounts
/// first) into the stopped server's database, in one transaction.
pub async fn write(
    database: &Database,
    world: Arc<World>,
    accounts: Option<AccountRows>,
    range: Range<usize>,
    deadline: Instant,
) -> anyhow::Result<Written> {
    let started = Instant::now();
    let mut writer = Writer::open(database).await?;
    if let Some(rows) = &accounts {
        writer
            .accounts(rows)
            .await
            .context("writing the accounts")?;
    }
    let (batch_start, end) = (range.start, range.end);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(2);
    let producer = {
        let world = world.clone();
        tokio::spawn(async move {
            let mut lo = batch_start;
            while lo < end {
                let hi = (lo + CHUNK).min(end);
                let world = world.clone();
                let chunk = tokio::task::spawn_blocking(move || {
                    model::generate(&world, lo..hi, batch_start, end)
                })
                .await?;
                if tx.send(chunk).await.is_err() {
                    break;
                }
                lo = hi;
            }
            anyhow::Ok(())
        })
    };
    let mut totals = BatchTotals::default();
    let mut written = Written {
        statuses: 0,
        mentions: 0,
        media: 0,
        tags: 0,
        notifications: 0,
        oldest_kept: None,
        elapsed: Duration::ZERO,
    };
    let mut writing = Duration::ZERO;
    let step = (range.len() / 5).max(CHUNK);
    while let Some(mut chunk) = rx.recv().await {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the time limit passed while populating"
        );
        let write_started = Instant::now();
        writer
            .chunk(&world, &chunk)
            .await
            .context("writing statuses")?;
        writing += write_started.elapsed();
        if (written.statuses + chunk.statuses.len()) / step > written.statuses / step {
            println!(
                "  {} of {} statuses written after {:.1} s ({:.1} s of it writing)",
                written.statuses + chunk.statuses.len(),
                range.len(),
                started.elapsed().as_secs_f64(),
                writing.as_secs_f64()
            );
        }
        written.statuses += chunk.statuses.len();
        written.mentions += chunk.mentions.len();
        written.media += chunk.media.len();
        written.tags += chunk.tags.len();
        written.notifications += chunk.notifications.len();
        totals.add(&world, &mut chunk);
    }
    producer.await.context("generating statuses")??;
    anyhow::ensure!(
        written.statuses == range.len(),
        "only {} of {} statuses were generated",
        written.statuses,
        range.len()
    );
    written.oldest_kept = writer
        .finish(&world, &totals)
        .await
        .context("writing the counters and the home feed")?;
    written.elapsed = started.elapsed();
    Ok(written)
}
