//! Scenario `retention`: after a long ingest the database holds what the
//! server keeps, not the traffic it has seen.
//!
//! 1. Serves a fake origin with `--actors` actors (sharing `--keys` key
//!    pairs) and starts the server under test with the local user `target`
//!    and the default retention periods, given explicitly.
//! 2. Sends, in phases, signed `Create(Note)`s to the shared inbox, each
//!    note public and mentioning `target` (so it is stored), then signed
//!    `Delete`s of some of them:
//!    - *warm-up*: `--notes` notes, every one deleted again. Traffic only:
//!      the server fetches every actor, and the tables that hold traffic
//!      reach the size one purge period of it needs (PostgreSQL reuses the
//!      space it frees but does not give it back).
//!    - *content only*: `--notes / 5` notes, none deleted: what a kept
//!      status costs when nothing else comes with it (the baseline).
//!    - rounds 1..=`--rounds`: `--notes` notes, four in five deleted again:
//!      `--notes / 5` more statuses kept per round for 1.8 × `--notes`
//!      activities seen, nine per status kept.
//! 3. Each phase ends the same way: wait (polling the database) until the
//!    inbound queue is empty and the statuses are what they should be;
//!    stop the server; move the timestamps of the traffic it keeps for a
//!    while (received activity ids, finished deliveries, published
//!    activities) back past their retention period, with direct SQL; start
//!    the server again, whose housekeeping runs at start, and wait until
//!    the aged rows are gone. On PostgreSQL a plain `VACUUM` follows, as
//!    autovacuum would run in the days skipped (it frees space for reuse
//!    and shrinks nothing). Then the live data size is measured: on SQLite
//!    `(page_count - freelist_count) * page_size`, on PostgreSQL the sum of
//!    `pg_total_relation_size` over the public schema's tables. Every
//!    table's size is printed too, so a table that grows with the traffic
//!    shows.
//!
//! Rows: the size after each round (against the size after round 1); the
//! growth per status kept from round 2 to the last (the first two rounds
//! bring the tables to their working size: round 1 fills the space the
//! warm-up's purges freed, and PostgreSQL recycles an emptied index page
//! only at the vacuum after the one that found it empty) against the growth per status
//! kept in the content-only phase: were the traffic kept, each kept status
//! would bring nine activities' ids with it. Target ≤ 1.5 ×: the statuses
//! deleted between kept ones leave free space inside B-tree pages that
//! later, higher ids do not reuse; on SQLite the same growth with that free
//! space left out has the target ≤ 1.1 ×. Then the tables that hold traffic
//! after the last round against after round 2 (target ≤ 1.1 ×: one retention
//! period of traffic, however much has passed); the aged rows housekeeping
//! left (target 0); and the size the rounds would have left without the
//! purges, estimated from the bytes one received id took in the warm-up.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use perch_apub::signatures::SigningKey;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::Ctx;
use crate::followers;
use crate::load::{self, Kind, Presigned, Sender};
use crate::origin::{self, Origin};
use crate::report::{Row, Rows, Target};
use crate::scenarios::inbound::signing_keys;
use crate::server::{Database, Server};
use crate::wait::{self, Ended};

/// Retention periods given to the server (its defaults), in days.
const ACTIVITY_IDS_DAYS: i64 = 14;
const DELIVERIES_DAYS: i64 = 7;
const DAY_MILLIS: i64 = 24 * 3600 * 1000;
/// How far back the traffic's timestamps are moved: past every period.
const AGE_BY_MILLIS: i64 = (ACTIVITY_IDS_DAYS + 1) * DAY_MILLIS;
/// How often the database is polled while waiting.
const POLL: Duration = Duration::from_millis(100);
/// A wait gives up when nothing has moved for this long.
const STALL: Duration = Duration::from_secs(30);
/// Of every five notes of a round, how many are deleted again.
const DELETED_OF_FIVE: usize = 4;
const MIB: f64 = 1024.0 * 1024.0;

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Create(Note) activities per round (and in the warm-up)
    #[arg(long, default_value_t = 5_000)]
    notes: usize,
    /// Rounds of notes, four in five deleted again
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Remote actors sending them
    #[arg(long, default_value_t = 200)]
    actors: usize,
    /// Requests in flight at once
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// RSA key pairs generated, shared round-robin by the actors
    #[arg(long, default_value_t = 8)]
    keys: usize,
}

pub async fn run(ctx: &Ctx, args: &Args, rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::ensure!(args.notes >= 5, "--notes must be at least 5");
    anyhow::ensure!(args.rounds > 0, "--rounds must be at least 1");
    anyhow::ensure!(args.actors > 0 && args.keys > 0 && args.concurrency > 0);

    let started = Instant::now();
    let (public_pems, private_pems) = followers::generate_keys(args.keys).await?;
    let origin = origin::start(args.actors, public_pems).await?;
    let keys = signing_keys(&origin, args.actors, &private_pems).await?;
    let ids_days = ACTIVITY_IDS_DAYS.to_string();
    let deliveries_days = DELIVERIES_DAYS.to_string();
    let mut server = Server::start_with(
        &ctx.perch,
        ctx.postgres.as_deref(),
        &[
            ("PERCH_RETAIN_ACTIVITY_IDS_DAYS", &ids_days),
            ("PERCH_RETAIN_DELIVERIES_DAYS", &deliveries_days),
        ],
    )
    .await?;
    println!(
        "server under test at {} on {}; {} actors on {}; ready in {:.1} s",
        server.base,
        server.database.backend(),
        args.actors,
        origin.base,
        started.elapsed().as_secs_f64()
    );
    let outcome = scenario(ctx, args, &mut server, origin, keys, rows).await;
    server.stop_and_report().await;
    println!(
        "retention on {} took {:.1} s",
        ctx.backend(),
        started.elapsed().as_secs_f64()
    );
    outcome
}

async fn scenario(
    ctx: &Ctx,
    args: &Args,
    server: &mut Server,
    origin: Arc<Origin>,
    keys: Vec<SigningKey>,
    rows: &mut Rows,
) -> anyhow::Result<()> {
    let traffic = Arc::new(Sender::new(&server.base, origin, keys, args.concurrency)?);
    let conn = Conn::open(&server.database).await?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()?;
    let mut ingest = Ingest {
        ctx,
        args,
        server,
        conn,
        client,
        traffic,
        next_seq: 0,
        kept: 0,
        seen: 0,
        ids_purged: 0,
    };
    let mut phases = vec![ingest.phase("warm-up", args.notes, 5).await?];
    phases.push(ingest.phase("content only", args.notes / 5, 0).await?);
    for k in 1..=args.rounds {
        let name = format!("round {k}");
        phases.push(ingest.phase(&name, args.notes, DELETED_OF_FIVE).await?);
    }
    let ids_purged = ingest.ids_purged;
    ingest.conn.close().await;
    print_tables(&phases);
    report(ctx, &phases, ids_purged, rows);
    Ok(())
}

/// What one phase left behind, measured after housekeeping.
struct Measured {
    name: String,
    /// Remote statuses kept.
    kept: i64,
    /// Activities sent (and accepted) since the start.
    seen: usize,
    /// Live data size, in bytes.
    bytes: i64,
    /// Each table's size with its indexes, in bytes (empty where SQLite
    /// cannot tell).
    tables: BTreeMap<String, i64>,
    /// Received activity ids before the purge, and the bytes their table
    /// took then.
    ids_before: i64,
    ids_bytes_before: Option<i64>,
    /// Free bytes inside the pages in use (SQLite only).
    unused: Option<i64>,
    /// Aged rows housekeeping had not purged when the wait ended.
    left: i64,
}

fn report(ctx: &Ctx, phases: &[Measured], ids_purged: i64, rows: &mut Rows) {
    let backend = ctx.backend();
    let [warm_up, content, rounds @ ..] = phases else {
        return;
    };
    let (Some(first), Some(last)) = (rounds.first(), rounds.last()) else {
        return;
    };
    for (k, round) in rounds.iter().enumerate() {
        rows.push(
            Row::new(
                "retention",
                backend,
                format!(
                    "database size after round {} ({} statuses kept, {} activities seen)",
                    k + 1,
                    round.kept,
                    round.seen
                ),
                round.bytes as f64 / MIB,
            )
            .unit("MiB")
            .against("size after round 1", first.bytes as f64 / MIB),
        );
    }
    // The first two rounds bring the tables to their working size: round 1
    // fills the space the warm-up's purges freed, and PostgreSQL recycles
    // an emptied index page only at the vacuum after the one that found it
    // empty. The rounds after them show the steady state.
    let from = rounds
        .get(1)
        .filter(|_| rounds.len() > 2)
        .unwrap_or(content);
    let from_round = rounds.iter().position(|r| std::ptr::eq(r, from));
    let per_status = |from: &Measured, to: &Measured, bytes: fn(&Measured) -> i64| {
        let statuses = (to.kept - from.kept) as f64;
        (bytes(to) - bytes(from)) as f64 / statuses / 1024.0
    };
    let activities_per_status =
        (last.seen - from.seen) as f64 / (last.kept - from.kept).max(1) as f64;
    let over = match from_round {
        Some(k) => format!("rounds {}–{}", k + 2, rounds.len()),
        None => format!("rounds 1–{}", rounds.len()),
    };
    rows.push(
        Row::new(
            "retention",
            backend,
            format!(
                "growth per status kept, {over} ({activities_per_status:.0} activities seen per status kept)"
            ),
            per_status(from, last, |m| m.bytes),
        )
        .unit("KiB")
        .against(
            "the same with nothing deleted (1 activity per status)",
            per_status(warm_up, content, |m| m.bytes),
        )
        .target(Target::RatioAtMost(1.5)),
    );
    if [warm_up, content, from, last]
        .iter()
        .all(|m| m.unused.is_some())
    {
        let used = |m: &Measured| m.bytes - m.unused.unwrap_or(0);
        rows.push(
            Row::new(
                "retention",
                backend,
                format!("the same, free space inside pages left out, {over}"),
                per_status(from, last, used),
            )
            .unit("KiB")
            .against(
                "the same with nothing deleted",
                per_status(warm_up, content, used),
            )
            .target(Target::RatioAtMost(1.1)),
        );
    }
    let traffic = |m: &Measured| -> f64 {
        TRAFFIC_TABLES
            .iter()
            .filter_map(|t| m.tables.get(*t))
            .sum::<i64>() as f64
            / 1024.0
    };
    if !last.tables.is_empty() {
        rows.push(
            Row::new(
                "retention",
                backend,
                format!(
                    "tables holding traffic after round {} ({} activities seen)",
                    rounds.len(),
                    last.seen
                ),
                traffic(last),
            )
            .unit("KiB")
            .against(
                format!(
                    "after round {} ({} seen)",
                    from_round.map_or(0, |k| k + 1),
                    from.seen
                ),
                traffic(from),
            )
            .target(Target::RatioAtMost(1.1)),
        );
    }
    rows.push(
        Row::new(
            "retention",
            backend,
            "aged rows left after housekeeping",
            last.left as f64,
        )
        .target(Target::Equal(0.0)),
    );
    // Bytes per received id, from the warm-up's table before its purge
    // (on PostgreSQL the only time the table held no dead space).
    let bytes_per_id = match warm_up.ids_bytes_before {
        Some(bytes) if warm_up.ids_before > 0 => bytes as f64 / warm_up.ids_before as f64,
        _ => f64::NAN,
    };
    let unpurged = last.bytes as f64 + ids_purged as f64 * bytes_per_id;
    println!(
        "{ids_purged} received activity ids purged in all, about {bytes_per_id:.0} bytes each"
    );
    rows.push(
        Row::new(
            "retention",
            backend,
            format!(
                "size after round {} without the purges (estimated: + {ids_purged} activity ids)",
                rounds.len()
            ),
            unpurged / MIB,
        )
        .unit("MiB")
        .against(
            format!("size after round {}", rounds.len()),
            last.bytes as f64 / MIB,
        ),
    );
}

/// Every table's size after each phase, in KiB.
fn print_tables(phases: &[Measured]) {
    let mut names: Vec<&String> = phases.iter().flat_map(|p| p.tables.keys()).collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return;
    }
    println!("\ntable sizes with their indexes, KiB, after each phase's housekeeping:");
    let mut header = format!("{:<24}", "table");
    for phase in phases {
        header.push_str(&format!(" {:>12}", phase.name));
    }
    println!("{header}");
    for name in names {
        let sizes: Vec<i64> = phases
            .iter()
            .map(|p| p.tables.get(name).copied().unwrap_or(0))
            .collect();
        if sizes.iter().all(|&s| s == 0) {
            continue;
        }
        let mut line = format!("{name:<24}");
        for size in sizes {
            line.push_str(&format!(" {:>12.1}", size as f64 / 1024.0));
        }
        println!("{line}");
    }
    let mut line = format!("{:<24}", "(live data size)");
    for phase in phases {
        line.push_str(&format!(" {:>12.1}", phase.bytes as f64 / 1024.0));
    }
    println!("{line}");
}

/// The run's state across phases.
struct Ingest<'a> {
    ctx: &'a Ctx,
    args: &'a Args,
    server: &'a mut Server,
    conn: Conn,
    client: reqwest::Client,
    traffic: Arc<Sender>,
    /// The next note's number.
    next_seq: usize,
    /// Remote statuses the server should hold.
    kept: i64,
    /// Activities accepted so far.
    seen: usize,
    /// Received activity ids housekeeping removed so far.
    ids_purged: i64,
}

impl Ingest<'_> {
    /// Sends `notes` notes, deletes `deleted_of_five` of every five again,
    /// lets time pass for the traffic and measures what is left.
    async fn phase(
        &mut self,
        name: &str,
        notes: usize,
        deleted_of_five: usize,
    ) -> anyhow::Result<Measured> {
        let deadline = self.ctx.deadline;
        let started = Instant::now();
        let first = self.next_seq;
        let creates: Vec<usize> = (first..first + notes).collect();
        let deletes: Vec<usize> = creates
            .iter()
            .copied()
            .filter(|seq| (seq - first) % 5 < deleted_of_five)
            .collect();
        self.next_seq += notes;
        let concurrency = self.args.concurrency;
        for (kind, seqs) in [(Kind::Create, creates), (Kind::Delete, deletes.clone())] {
            let wanted = seqs.len();
            let sent = load::send(
                self.traffic.clone(),
                kind,
                seqs,
                concurrency,
                Presigned::none(),
                deadline,
            )
            .await?;
            if sent.accepted < wanted {
                bail!(
                    "{name}: only {} of {wanted} {kind:?}s answered 202; {}",
                    sent.accepted,
                    sent.samples.join("; ")
                );
            }
            self.seen += wanted;
        }
        self.kept += (notes - deletes.len()) as i64;
        let sent_in = started.elapsed();
        settle(&mut self.conn, self.kept, name, deadline).await?;
        let applied_in = started.elapsed();

        self.server.shut_down(Duration::from_secs(10)).await?;
        let ids_before = self.conn.scalar(RECEIVED_IDS).await?;
        let ids_bytes_before = self
            .conn
            .table_bytes()
            .await?
            .get("received_activities")
            .copied();
        let stopped_at = chrono::Utc::now().timestamp_millis();
        let aged = self.conn.age(AGE_BY_MILLIS).await?;
        self.server.restart(&self.ctx.perch)?;
        self.server
            .wait_until_healthy(&self.client, Duration::from_millis(20))
            .await?;
        let restarted_in = started.elapsed();
        let cutoff = stopped_at - AGE_BY_MILLIS + 1;
        let aged_total = u64::try_from(aged).unwrap_or(0);
        let limit = deadline.min(Instant::now() + Duration::from_secs(60));
        let conn = &mut self.conn;
        let (ended, gone) = wait::until_count(aged_total, POLL, STALL, limit, async || {
            let left = conn.scalar_with(AGED_LEFT, cutoff).await?;
            Ok(aged_total.saturating_sub(u64::try_from(left).unwrap_or(0)))
        })
        .await?;
        let left = aged_total.saturating_sub(gone) as i64;
        if ended != Ended::Reached {
            println!("{name}: housekeeping left {left} of {aged} aged rows ({ended:?})");
        }
        let ids_after = self.conn.scalar(RECEIVED_IDS).await?;
        self.ids_purged += (ids_before - ids_after).max(0);
        self.conn.vacuum().await?;
        let purged_in = started.elapsed();

        let bytes = self.conn.live_bytes().await?;
        let tables = self.conn.table_bytes().await?;
        let unused = self.conn.unused_bytes().await?;
        let unused_note = match unused {
            Some(unused) => format!(
                " ({:.2} MiB of it free space inside pages)",
                unused as f64 / MIB
            ),
            None => String::new(),
        };
        let statuses = self.conn.scalar(REMOTE_STATUSES).await?;
        anyhow::ensure!(
            statuses == self.kept,
            "{name}: {statuses} remote statuses after the restart, {} expected",
            self.kept
        );
        println!(
            "{name}: {} notes, {} deleted; sent in {:.1} s, applied at {:.1} s, restarted at {:.1} s, \
             {aged} aged rows purged at {:.1} s; {} statuses kept, {} activities seen, \
             received ids {ids_before} -> {ids_after}, live data {:.2} MiB{unused_note}",
            notes,
            deletes.len(),
            sent_in.as_secs_f64(),
            applied_in.as_secs_f64(),
            restarted_in.as_secs_f64(),
            purged_in.as_secs_f64(),
            self.kept,
            self.seen,
            bytes as f64 / MIB
        );
        Ok(Measured {
            name: name.to_owned(),
            kept: self.kept,
            seen: self.seen,
            bytes,
            tables,
            ids_before,
            ids_bytes_before,
            unused,
            left,
        })
    }
}

/// Polls until the inbound queue is empty, then checks that the server
/// holds `statuses` remote statuses. Gives up at `deadline`, or when
/// neither count moved for [`STALL`].
async fn settle(
    conn: &mut Conn,
    statuses: i64,
    name: &str,
    deadline: Instant,
) -> anyhow::Result<()> {
    let mut last = None;
    let mut moved = Instant::now();
    loop {
        let stored = conn.scalar(REMOTE_STATUSES).await?;
        let queued = conn.scalar(QUEUED).await?;
        if queued == 0 {
            anyhow::ensure!(
                stored == statuses,
                "{name}: the queue is empty with {stored} remote statuses stored, {statuses} expected"
            );
            return Ok(());
        }
        if last != Some((stored, queued)) {
            last = Some((stored, queued));
            moved = Instant::now();
        }
        let now = Instant::now();
        if now >= deadline || now - moved >= STALL {
            bail!("{name}: {queued} activities still queued, {stored} remote statuses stored");
        }
        tokio::time::sleep(POLL.min(deadline - now)).await;
    }
}

/// The tables whose rows come with traffic rather than content, each
/// purged after its period.
const TRAFFIC_TABLES: [&str; 4] = [
    "received_activities",
    "inbound_activities",
    "deliveries",
    "outbound_activities",
];
const REMOTE_STATUSES: &str = "SELECT COUNT(*) FROM statuses WHERE NOT local";
const QUEUED: &str = "SELECT COUNT(*) FROM inbound_activities";
const RECEIVED_IDS: &str = "SELECT COUNT(*) FROM received_activities";
/// Aged rows (timestamps before `$1`) that housekeeping has yet to purge.
const AGED_LEFT: &str = "SELECT \
     (SELECT COUNT(*) FROM received_activities WHERE received_at < $1) \
     + (SELECT COUNT(*) FROM deliveries WHERE state <> 0 AND finished_at < $1) \
     + (SELECT COUNT(*) FROM outbound_activities WHERE created_at < $1)";
/// The traffic kept for a while, made `$1` milliseconds older.
const AGE: [&str; 3] = [
    "UPDATE received_activities SET received_at = received_at - $1",
    "UPDATE deliveries SET finished_at = finished_at - $1 \
     WHERE state <> 0 AND finished_at IS NOT NULL",
    "UPDATE outbound_activities SET created_at = created_at - $1",
];
const PG_LIVE_BYTES: &str = "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = 'public' AND c.relkind = 'r'";
const PG_TABLE_BYTES: &str = "SELECT c.relname::TEXT, pg_total_relation_size(c.oid)::BIGINT \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE n.nspname = 'public' AND c.relkind = 'r'";
/// Pages of each table and its indexes (`dbstat` counts every page the
/// B-trees use, free space in them included; free-list pages are not).
const SQLITE_TABLE_BYTES: &str = "SELECT m.tbl_name, SUM(d.pgsize) \
     FROM dbstat d JOIN sqlite_master m ON m.name = d.name GROUP BY m.tbl_name";

const SQLITE_UNUSED_BYTES: &str = "SELECT SUM(unused) FROM dbstat";

/// A read-write connection to the server's database: for the bench's own
/// changes while the server is stopped (aging rows), its polls and its
/// measures.
enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// `$body` with `$conn` bound to the connection, whichever the backend.
macro_rules! on_conn {
    ($self:expr, $conn:ident => $body:expr) => {
        match $self {
            Conn::Sqlite($conn) => $body,
            Conn::Postgres($conn) => $body,
        }
    };
}

impl Conn {
    async fn open(database: &Database) -> anyhow::Result<Conn> {
        Ok(match database {
            Database::Sqlite { path } => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .busy_timeout(Duration::from_secs(5));
                Conn::Sqlite(SqliteConnection::connect_with(&options).await?)
            }
            Database::Postgres { url, .. } => Conn::Postgres(PgConnection::connect(url).await?),
        })
    }

    async fn scalar(&mut self, sql: &'static str) -> anyhow::Result<i64> {
        Ok(on_conn!(self, conn => sqlx::query_scalar(sql).fetch_one(conn).await?))
    }

    async fn scalar_with(&mut self, sql: &'static str, arg: i64) -> anyhow::Result<i64> {
        Ok(on_conn!(self, conn => sqlx::query_scalar(sql).bind(arg).fetch_one(conn).await?))
    }

    /// Moves the traffic's timestamps `by` milliseconds back; returns the
    /// rows moved.
    async fn age(&mut self, by: i64) -> anyhow::Result<i64> {
        let mut moved = 0;
        for sql in AGE {
            let rows = on_conn!(self, conn => {
                sqlx::query(sql).bind(by).execute(conn).await?.rows_affected()
            });
            moved += i64::try_from(rows).unwrap_or(i64::MAX);
        }
        Ok(moved)
    }

    /// What autovacuum does on PostgreSQL; nothing on SQLite, whose free
    /// pages are reused as they are.
    async fn vacuum(&mut self) -> anyhow::Result<()> {
        if let Conn::Postgres(conn) = self {
            sqlx::raw_sql("VACUUM").execute(conn).await?;
        }
        Ok(())
    }

    /// The bytes the data takes, free space kept for reuse left out on
    /// SQLite (its free list) and in on PostgreSQL (which keeps it in the
    /// tables' files).
    async fn live_bytes(&mut self) -> anyhow::Result<i64> {
        Ok(match self {
            Conn::Sqlite(conn) => {
                let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
                    .fetch_one(&mut *conn)
                    .await?;
                let free: i64 = sqlx::query_scalar("PRAGMA freelist_count")
                    .fetch_one(&mut *conn)
                    .await?;
                let size: i64 = sqlx::query_scalar("PRAGMA page_size")
                    .fetch_one(&mut *conn)
                    .await?;
                (pages - free) * size
            }
            Conn::Postgres(conn) => sqlx::query_scalar(PG_LIVE_BYTES).fetch_one(conn).await?,
        })
    }

    /// The free bytes inside the pages SQLite uses (left by deleted rows
    /// and page splits); `None` on PostgreSQL or without `dbstat`.
    async fn unused_bytes(&mut self) -> anyhow::Result<Option<i64>> {
        Ok(match self {
            Conn::Sqlite(conn) => sqlx::query_scalar(SQLITE_UNUSED_BYTES)
                .fetch_one(conn)
                .await
                .ok(),
            Conn::Postgres(_) => None,
        })
    }

    /// Each table's bytes with its indexes; empty on a SQLite built
    /// without `dbstat`.
    async fn table_bytes(&mut self) -> anyhow::Result<BTreeMap<String, i64>> {
        let rows: Vec<(String, i64)> = match self {
            Conn::Sqlite(conn) => sqlx::query_as(SQLITE_TABLE_BYTES)
                .fetch_all(conn)
                .await
                .unwrap_or_default(),
            Conn::Postgres(conn) => sqlx::query_as(PG_TABLE_BYTES).fetch_all(conn).await?,
        };
        Ok(rows.into_iter().collect())
    }

    async fn close(self) {
        let _ = on_conn!(self, conn => conn.close().await);
    }
}
