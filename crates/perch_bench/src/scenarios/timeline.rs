//! Scenario `timeline`: `GET /api/v1/timelines/home?limit=40` for an
//! account following 1,000 others, over a database of a million statuses
//! from 10,000 accounts, then two million, then while the inbox takes in
//! notes at full speed.
//!
//! 1. Serves a fake origin on `127.0.0.1:0` with `--accounts` Person
//!    documents (`/users/aN`; `--keys` RSA key pairs shared round-robin),
//!    starts the server under test and gets `target`'s access token.
//! 2. Stops the server and writes, straight into its database, the rows it
//!    would have written had it received all that from the origin (see
//!    `populate`): the accounts and their keys, `target`'s follows of
//!    `a0`…`a{followed-1}`, `--statuses` statuses with replies, reblogs,
//!    mentions, hashtags, attachments and content warnings, the
//!    notifications of `target`'s mentions, the counters, and `target`'s
//!    home feed as fan-out fills it and retention trims it (800 entries).
//!    The time this takes is reported on its own row. Polls are not
//!    generated: the schema has none yet.
//! 3. Starts the server again on that database and, after `--warmup`
//!    untimed requests, times `--requests` requests with `--concurrency`
//!    in flight (a closed loop) of:
//!    * the first page: `GET /api/v1/timelines/home?limit=40`;
//!    * deep pages: the same with `max_id` at 16 points spread from the
//!      oldest entry the feed keeps back to near the first status, so that
//!      every page is completed from the statuses table (the path a client
//!      scrolling past the 800 kept entries takes), cycling through them;
//!    * the baseline, `GET /health`, the same number of requests at the
//!      same concurrency: the HTTP floor of this server on this machine
//!      (routing, the connection, one database round trip), measured in
//!      the same run. Each page row is compared with the same percentile
//!      of `/health`.
//!
//!    Every answer is read to its last byte; a page's time is from just
//!    before the request is sent until then. Only 200s are timed; anything
//!    else is counted and shown.
//! 4. Stops the server, adds statuses up to `--grow-to` (newer than the
//!    first ones, as a database grows), starts it and measures again.
//! 5. Under ingest: the inbound scenario's load (`load::Sender`: signed
//!    `Create(Note)`s, public and mentioning `target`, from the followed
//!    actors, so every note also enters `target`'s home feed; signed just
//!    before sending, `--ingest-concurrency` in flight) runs for
//!    `--ingest-seconds`; after its first second, timeline first pages and
//!    `/health` requests alternate in the same closed loop until it ends,
//!    so both see the same load. The notes stored per second meanwhile are
//!    reported too.
//!
//! Target (from the issue): p99 ≤ 10 ms for the first page at 1 M, at 2 M
//! and under ingest.

mod populate;
mod probe;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use perch_apub::signatures::SigningKey;

use self::populate::World;
use self::probe::{Plan, Probed};
use crate::Ctx;
use crate::load::{self, Sender};
use crate::origin;
use crate::report::{Row, Rows, Target};
use crate::server::{Server, TARGET_USER};

const SCENARIO: &str = "home timeline";
const PAGE: &str = "/api/v1/timelines/home?limit=40";
/// The target on every first-page p99, in milliseconds.
const P99_TARGET_MS: f64 = 10.0;
/// Deep pages requested in turn.
const DEEP_PAGES: usize = 16;

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Statuses in the database for the first measurements
    #[arg(long, default_value_t = 1_000_000)]
    statuses: usize,
    /// Statuses in the database for the second measurements (0: none)
    #[arg(long, default_value_t = 2_000_000)]
    grow_to: usize,
    /// Remote accounts posting them
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    /// Accounts `target` follows
    #[arg(long, default_value_t = 1_000)]
    followed: usize,
    /// Timed requests per measurement
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    /// Untimed requests before each measurement
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Timeline requests in flight at once
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// How long the inbound load runs in the last measurement (0: skip it)
    #[arg(long, default_value_t = 20)]
    ingest_seconds: u64,
    /// Inbound requests in flight at once
    #[arg(long, default_value_t = 64)]
    ingest_concurrency: usize,
    /// RSA key pairs generated, shared round-robin by the remote actors
    #[arg(long, default_value_t = 16)]
    keys: usize,
}

pub async fn run(ctx: &Ctx, args: &Args, rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::ensure!(args.accounts > 0, "--accounts must be at least 1");
    anyhow::ensure!(
        args.followed > 0 && args.followed <= args.accounts,
        "--followed must be between 1 and --accounts"
    );
    anyhow::ensure!(args.statuses > 0, "--statuses must be at least 1");
    anyhow::ensure!(
        args.grow_to == 0 || args.grow_to > args.statuses,
        "--grow-to must be 0 or more than --statuses"
    );
    anyhow::ensure!(args.keys > 0, "--keys must be at least 1");
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(args.requests > 0, "--requests must be at least 1");

    let started = Instant::now();
    let (public_pems, private_pems) = generate_keys(args.keys).await?;
    let origin = origin::start(args.accounts, public_pems.clone()).await?;
    let mut server = Server::start(&ctx.perch, ctx.postgres.as_deref()).await?;
    println!(
        "server under test at {} on {}; {} remote actors on {}, ready in {:.1} s",
        server.base,
        server.database.backend(),
        args.accounts,
        origin.base,
        started.elapsed().as_secs_f64()
    );
    let outcome = scenario(
        ctx,
        args,
        &mut server,
        origin,
        &public_pems,
        &private_pems,
        rows,
    )
    .await;
    server.stop_and_report().await;
    println!(
        "timeline scenario took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    outcome
}

/// What the measurements share.
struct Bench<'a> {
    ctx: &'a Ctx,
    args: &'a Args,
    client: reqwest::Client,
    token: String,
    base: String,
}

async fn scenario(
    ctx: &Ctx,
    args: &Args,
    server: &mut Server,
    origin: Arc<origin::Origin>,
    public_pems: &[String],
    private_pems: &[String],
    rows: &mut Rows,
) -> anyhow::Result<()> {
    let backend = ctx.backend();
    let client = probe::client(args.concurrency)?;
    let token = server.token(&client, TARGET_USER).await?;
    let target_id = account_id(&client, &server.base, &token).await?;
    let total = args.grow_to.max(args.statuses);
    let now = perch_core::time::now_millis();
    let world = Arc::new(World {
        origin: origin.base.clone(),
        server: server.base.clone(),
        target_id,
        accounts: args.accounts,
        followed: args.followed,
        // The newest generated status is ten minutes old.
        t0: now - total as i64 * populate::STEP_MS - 600_000,
        fetched_at: now,
    });
    let bench = Bench {
        ctx,
        args,
        client,
        token,
        base: server.base.clone(),
    };

    // A million statuses.
    let accounts = populate::account_rows(&world, public_pems);
    let oldest_kept = grow(
        &bench,
        server,
        &world,
        Some(accounts),
        0..args.statuses,
        rows,
    )
    .await?;
    let size = short_count(args.statuses);
    measure_pages(&bench, &world, oldest_kept, &size, rows).await?;

    // Two million.
    let size = if args.grow_to > args.statuses {
        let oldest_kept = grow(
            &bench,
            server,
            &world,
            None,
            args.statuses..args.grow_to,
            rows,
        )
        .await?;
        let size = short_count(args.grow_to);
        measure_pages(&bench, &world, oldest_kept, &size, rows).await?;
        size
    } else {
        size
    };

    if args.ingest_seconds > 0 {
        under_ingest(&bench, server, origin, private_pems, &size, backend, rows).await?;
    }
    Ok(())
}

/// Stops the server, writes statuses `range` (and the accounts, the first
/// time), starts it again. Returns the oldest id the home feed keeps.
async fn grow(
    bench: &Bench<'_>,
    server: &mut Server,
    world: &Arc<World>,
    accounts: Option<populate::AccountRows>,
    range: std::ops::Range<usize>,
    rows: &mut Rows,
) -> anyhow::Result<i64> {
    let (from, to) = (range.start, range.end);
    server.shut_down(Duration::from_secs(10)).await?;
    let written = populate::write(
        &server.database,
        world.clone(),
        accounts,
        range,
        bench.ctx.deadline,
    )
    .await
    .with_context(|| format!("populating statuses {from}..{to}"))?;
    println!(
        "populated statuses {from}..{to} in {:.1} s: {} statuses ({:.0}/s), {} mentions, {} tags, {} attachments, {} notifications",
        written.elapsed.as_secs_f64(),
        written.statuses,
        written.statuses as f64 / written.elapsed.as_secs_f64().max(1e-9),
        written.mentions,
        written.tags,
        written.media,
        written.notifications,
    );
    let measure = if from == 0 {
        format!(
            "population: {} statuses, {} accounts",
            short_count(to),
            short_count(world.accounts)
        )
    } else {
        format!(
            "population: {} → {} statuses",
            short_count(from),
            short_count(to)
        )
    };
    rows.push(
        Row::new(
            SCENARIO,
            bench.ctx.backend(),
            measure,
            written.elapsed.as_secs_f64(),
        )
        .unit("s"),
    );
    let restarted = Instant::now();
    server.restart(&bench.ctx.perch)?;
    server
        .wait_until_healthy(&bench.client, Duration::from_millis(50))
        .await?;
    println!(
        "server restarted on the database in {:.1} s",
        restarted.elapsed().as_secs_f64()
    );
    written
        .oldest_kept
        .context("the home feed is empty after populating")
}

/// The first page, deep pages and `/health`, each timed on its own.
async fn measure_pages(
    bench: &Bench<'_>,
    world: &World,
    oldest_kept: i64,
    size: &str,
    rows: &mut Rows,
) -> anyhow::Result<()> {
    let first = format!("{}{PAGE}", bench.base);
    let items = probe::count_items(&bench.client, &bench.token, &first).await?;
    anyhow::ensure!(items == 40, "the first page holds {items} statuses, not 40");
    let deep = deep_pages(bench, world, oldest_kept);
    let mut fewest = usize::MAX;
    for url in &deep {
        fewest = fewest.min(probe::count_items(&bench.client, &bench.token, url).await?);
    }
    println!(
        "first page: 40 statuses; {} deep pages (max_id from the oldest kept feed entry back to near the first status): at least {fewest} statuses each",
        deep.len()
    );

    let health = vec![format!("{}/health", bench.base)];
    let floor = timed(bench, Plan::one(health), "GET /health").await?;
    let first = timed(bench, Plan::one(vec![first]), "first page").await?;
    let deep = timed(bench, Plan::one(deep), "deep pages").await?;
    let floor = &floor.buckets[0];
    push_pair(
        bench,
        rows,
        &format!("{size}: first page"),
        &first.buckets[0],
        floor,
        "GET /health",
        true,
    );
    push_pair(
        bench,
        rows,
        &format!("{size}: page past the kept feed"),
        &deep.buckets[0],
        floor,
        "GET /health",
        false,
    );
    Ok(())
}

/// `max_id`s from the oldest kept feed entry back to near the first status.
fn deep_pages(bench: &Bench<'_>, world: &World, oldest_kept: i64) -> Vec<String> {
    let oldest_ms = perch_core::id::Id::from_i64(oldest_kept).timestamp_millis();
    let span = oldest_ms - world.t0;
    (0..DEEP_PAGES)
        .map(|j| {
            let max_id = match j {
                0 => oldest_kept,
                j => world.id_at(oldest_ms - span * j as i64 / (DEEP_PAGES as i64 + 1)),
            };
            format!("{}{PAGE}&max_id={max_id}", bench.base)
        })
        .collect()
}

/// Warm-up, then the timed requests of `plan`.
async fn timed(bench: &Bench<'_>, plan: Plan, what: &str) -> anyhow::Result<Probed> {
    let plan = Arc::new(plan);
    let args = bench.args;
    let deadline = bench.ctx.deadline;
    probe::run(
        &bench.client,
        &bench.token,
        plan.clone(),
        args.warmup,
        args.concurrency,
        deadline,
    )
    .await?;
    let probed = probe::run(
        &bench.client,
        &bench.token,
        plan,
        args.requests,
        args.concurrency,
        deadline,
    )
    .await?;
    print_probe(what, &probed, 0);
    Ok(probed)
}

fn print_probe(what: &str, probed: &Probed, bucket: usize) {
    let b = &probed.buckets[bucket];
    println!(
        "  {what:<34} {:>6} answers {:>3} failed  {:>7.0}/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  mean {:>6.2} ms",
        b.micros.len(),
        b.failures,
        probed.per_sec(),
        b.percentile_ms(0.5),
        b.percentile_ms(0.9),
        b.percentile_ms(0.99),
        b.percentile_ms(1.0),
        b.mean_ms(),
    );
    for sample in &b.samples {
        println!("    failed: {sample}");
    }
}

/// The p50 and p99 rows of a measurement, against the same percentiles of
/// the baseline; the p99 row of a first page carries the target.
fn push_pair(
    bench: &Bench<'_>,
    rows: &mut Rows,
    measure: &str,
    page: &probe::Latencies,
    floor: &probe::Latencies,
    floor_name: &str,
    targeted: bool,
) {
    let backend = bench.ctx.backend();
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        let mut row = Row::new(
            SCENARIO,
            backend,
            format!("{measure} {name}"),
            page.percentile_ms(p),
        )
        .unit("ms")
        .against(format!("{floor_name} {name} ms"), floor.percentile_ms(p));
        if targeted && name == "p99" {
            row = row.target(Target::AtMost(P99_TARGET_MS));
        }
        rows.push(row);
    }
    if page.failures > 0 {
        rows.push(
            Row::new(
                SCENARIO,
                backend,
                format!("{measure}: failed requests"),
                page.failures as f64,
            )
            .target(Target::Equal(0.0)),
        );
    }
}

/// The first page and `/health`, alternating, while the inbox takes in
/// notes from the followed actors at full speed.
async fn under_ingest(
    bench: &Bench<'_>,
    server: &Server,
    origin: Arc<origin::Origin>,
    private_pems: &[String],
    size: &str,
    backend: &str,
    rows: &mut Rows,
) -> anyhow::Result<()> {
    let args = bench.args;
    let actors = args.followed;
    let keys = signing_keys(&origin, actors, private_pems).await?;
    let sender = Arc::new(Sender::new(
        &server.base,
        origin,
        keys,
        args.ingest_concurrency,
    )?);
    let mut counter = server.counter().await?;
    let stored_before = counter.remote_statuses().await?;
    let window = Duration::from_secs(args.ingest_seconds);
    let ingest_end = (Instant::now() + window).min(bench.ctx.deadline);
    let ingest = tokio::spawn(load::send(
        sender,
        load::Kind::Create,
        0..usize::MAX / 2,
        args.ingest_concurrency,
        load::Presigned::none(),
        ingest_end,
    ));
    tokio::time::sleep(Duration::from_secs(1).min(window / 4)).await;
    let stored_at_start = counter.remote_statuses().await?;
    let plan = Arc::new(Plan {
        urls: vec![
            (0, format!("{}{PAGE}", bench.base)),
            (1, format!("{}/health", bench.base)),
        ],
        buckets: 2,
    });
    let probe_started = Instant::now();
    let probed = probe::run(
        &bench.client,
        &bench.token,
        plan,
        usize::MAX / 2,
        args.concurrency,
        ingest_end,
    )
    .await?;
    let stored_at_end = counter.remote_statuses().await?;
    let probe_elapsed = probe_started.elapsed();
    let sent = ingest
        .await
        .context("the inbound load")?
        .context("the inbound load")?;
    counter.close().await;
    let stored_rate = (stored_at_end - stored_at_start) as f64 / probe_elapsed.as_secs_f64();
    println!(
        "under ingest: {} inbound requests answered ({:.0}/s, {} other than 202), {} notes stored during the timed window ({stored_rate:.0}/s), {} before it",
        sent.accepted,
        sent.answers_per_sec(),
        sent.others(),
        stored_at_end - stored_at_start,
        stored_at_start - stored_before,
    );
    for sample in sent.samples.iter().take(3) {
        println!("  inbound non-202: {sample}");
    }
    print_probe("first page (under ingest)", &probed, 0);
    print_probe("GET /health (under ingest)", &probed, 1);
    push_pair(
        bench,
        rows,
        &format!("{size} under ingest: first page"),
        &probed.buckets[0],
        &probed.buckets[1],
        "GET /health under ingest",
        true,
    );
    rows.push(
        Row::new(
            SCENARIO,
            backend,
            "under ingest: notes stored/s meanwhile",
            stored_rate,
        )
        .unit("/s"),
    );
    Ok(())
}

/// `target`'s account id, from `verify_credentials`.
async fn account_id(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<i64> {
    let me: serde_json::Value = client
        .get(format!("{base}/api/v1/accounts/verify_credentials"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    me["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("no account id in {me}"))
}

/// `1M`, `2M`, `10k`…
fn short_count(n: usize) -> String {
    if n >= 1_000_000 && n % 100_000 == 0 {
        let m = n as f64 / 1e6;
        format!("{m}M")
    } else if n >= 1_000 && n % 100 == 0 {
        format!("{}k", n as f64 / 1e3)
    } else {
        n.to_string()
    }
}

/// `count` RSA-2048 key pairs as (public PEMs, private PEMs), generated on
/// all cores.
async fn generate_keys(count: usize) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let tasks: Vec<_> = (0..count)
        .map(|_| tokio::task::spawn_blocking(perch_core::keys::generate_actor_keys))
        .collect();
    let mut public = Vec::with_capacity(count);
    let mut private = Vec::with_capacity(count);
    for task in tasks {
        let (public_pem, private_pem) = task.await.context("key generation task")??;
        public.push(public_pem);
        private.push(private_pem);
    }
    Ok((public, private))
}

/// The signing keys of actors `0..actors`: each its own key id, the key
/// pairs shared round-robin as the origin serves them.
async fn signing_keys(
    origin: &Arc<origin::Origin>,
    actors: usize,
    private_pems: &[String],
) -> anyhow::Result<Vec<SigningKey>> {
    let origin = origin.clone();
    let private_pems = private_pems.to_vec();
    tokio::task::spawn_blocking(move || {
        (0..actors)
            .map(|n| {
                SigningKey::from_pem(origin.key_id(n), &private_pems[n % private_pems.len()])
                    .map_err(|e| anyhow!("actor key: {e}"))
            })
            .collect()
    })
    .await
    .context("key parsing task")?
}
