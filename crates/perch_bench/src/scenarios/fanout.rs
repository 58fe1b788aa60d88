//! Scenario `fanout`: one public post delivered to many followers on many
//! servers, with and without shared inboxes.
//!
//! 1. Serves `--servers` fake remote servers in-process, each on its own
//!    `127.0.0.1` port (so its own authority, which the server under test
//!    treats as its own host), each with `--actors-per-server` Person
//!    actors. `--keys` RSA key pairs are shared round-robin; each actor has
//!    its own key id. In the *shared* variant every actor names its
//!    server's `/inbox` as `endpoints.sharedInbox`; in the *personal* one
//!    no actor has a shared inbox.
//! 2. Per variant, starts a server with a fresh database and the local
//!    user `target`, and makes the followers honestly: every remote actor
//!    sends a signed Follow of `target` (signed before sending, so that the
//!    generator's signing does not compete with the server). The server
//!    fetches each actor, applies the Follow and answers it with an Accept
//!    delivery; the scenario waits until `target` has every follower, every
//!    Accept has arrived and the delivery queue is empty.
//! 3. `target` posts one public status through the REST API
//!    (`POST /api/v1/statuses`). The fake inboxes tally each `Create` that
//!    arrives: requests, requests with a `Signature` header (its shape is
//!    checked, not the signature), distinct inboxes, and the arrival time
//!    of the last one.
//! 4. **deliveries/s**: Create requests received, divided by the time from
//!    the start of the POST (so the transaction that writes the delivery
//!    jobs counts) to the arrival of the last expected Create. **followers
//!    reached/s**: the followers those requests serve (every follower of a
//!    server through its shared inbox), over the same time. **signatures
//!    made**: requests that carried a signature; the target is one per
//!    distinct inbox (1,000 shared inboxes, 10,000 personal ones by
//!    default). **peak RSS**: the server's `VmHWM`, reset (through
//!    `/proc/PID/clear_refs`) just before the post and read once the queue
//!    is empty. **left pending or failed**: delivery jobs the server's
//!    database (read-only) still holds as pending, or holds as failed, once
//!    the last Create arrived and the queue settled.
//!
//! The baseline of the rates is the machine's RSA-2048 signing rate on all
//! cores: each delivery needs one signature, so half that rate is what the
//! issue asks of the whole delivery path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::Ctx;
use crate::followers;
use crate::peers::{Fleet, GroupSpec};
use crate::report::{Row, Rows, Target};
use crate::server::{Counter, Server, TARGET_USER};
use crate::wait::{self, Ended};

/// How often the fake inboxes' tallies are looked at while waiting.
const POLL: Duration = Duration::from_millis(5);
/// How often the database is counted while waiting for the setup.
const DB_POLL: Duration = Duration::from_millis(200);
/// A wait gives up when its count has not moved for this long.
const STALL: Duration = Duration::from_secs(30);
/// The one group of fake servers.
const GROUP: usize = 0;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Every actor names its server's shared inbox
    Shared,
    /// No actor has a shared inbox: one delivery per follower
    Personal,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::Shared => "shared inboxes",
            Variant::Personal => "personal inboxes",
        }
    }
}

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Fake remote servers, each on its own loopback port
    #[arg(long, default_value_t = 1_000)]
    servers: usize,
    /// Followers on each server
    #[arg(long, default_value_t = 10)]
    actors_per_server: usize,
    /// RSA key pairs generated, shared round-robin by the actors
    #[arg(long, default_value_t = 16)]
    keys: usize,
    /// Follow requests in flight at once during the setup
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Which variants to run
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Variant::Shared, Variant::Personal])]
    variants: Vec<Variant>,
}

pub async fn run(ctx: &Ctx, args: &Args, rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::ensure!(args.servers > 0, "--servers must be at least 1");
    anyhow::ensure!(
        args.actors_per_server > 0,
        "--actors-per-server must be at least 1"
    );
    anyhow::ensure!(args.keys > 0, "--keys must be at least 1");
    let started = Instant::now();
    let (public_pems, private_pems) = followers::generate_keys(args.keys).await?;
    let spec = GroupSpec {
        servers: args.servers,
        actors_per_server: args.actors_per_server,
        shared_inbox: true,
        answer_delay: Duration::ZERO,
    };
    let fleet = Fleet::start(&[spec], public_pems).await?;
    println!(
        "{} fake servers × {} actors on 127.0.0.1, sharing {} RSA-2048 key pairs; ready in {:.1} s",
        args.servers,
        args.actors_per_server,
        args.keys,
        started.elapsed().as_secs_f64()
    );
    for &variant in &args.variants {
        let began = Instant::now();
        fleet.set_shared_inbox(GROUP, variant == Variant::Shared);
        fleet.reset();
        let mut server = Server::start(&ctx.perch, ctx.postgres.as_deref()).await?;
        println!(
            "\n{}: server under test at {} on {}",
            variant.label(),
            server.base,
            server.database.backend()
        );
        let outcome = one_variant(ctx, args, variant, &server, &fleet, &private_pems, rows).await;
        server.stop_and_report().await;
        println!(
            "{}: took {:.1} s with its setup",
            variant.label(),
            began.elapsed().as_secs_f64()
        );
        outcome?;
    }
    Ok(())
}

async fn one_variant(
    ctx: &Ctx,
    args: &Args,
    variant: Variant,
    server: &Server,
    fleet: &Arc<Fleet>,
    private_pems: &[String],
    rows: &mut Rows,
) -> anyhow::Result<()> {
    let deadline = ctx.deadline;
    let label = variant.label();
    let actors = fleet.actors(GROUP);
    let followers = actors.len() as u64;
    let mut counter = server.counter().await?;

    // Setup: every actor follows `target`; the server answers each with an
    // Accept, which is let through before the post.
    let setup = Instant::now();
    let sent = followers::follow_target(
        &server.base,
        &actors,
        private_pems,
        args.concurrency,
        deadline,
    )
    .await?;
    println!(
        "setup: {} Follows sent, {} answered 202 in {:.1} s ({:.0}/s); {} actor documents fetched",
        sent.sent,
        sent.accepted,
        sent.elapsed.as_secs_f64(),
        sent.accepted as f64 / sent.elapsed.as_secs_f64().max(1e-9),
        fleet
            .actor_fetches
            .load(std::sync::atomic::Ordering::Relaxed)
    );
    for sample in &sent.samples {
        println!("  refused: {sample}");
    }
    let (ended, count) = wait::until_count(followers, DB_POLL, STALL, deadline, async || {
        followers_count(&mut counter).await
    })
    .await?;
    anyhow::ensure!(
        ended == Ended::Reached,
        "only {count} of {followers} follows were applied ({ended:?})"
    );
    let (ended, accepts) = wait::until_count(followers, POLL, STALL, deadline, async || {
        Ok(fleet.count(GROUP, "Accept"))
    })
    .await?;
    println!(
        "setup: {count} followers after {:.1} s; {accepts} Accepts arrived ({ended:?}) after {:.1} s",
        setup.elapsed().as_secs_f64(),
        setup.elapsed().as_secs_f64()
    );
    settle(&mut counter, deadline).await?;

    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()?;
    let token = server.token(&client, TARGET_USER).await?;
    let idle_kib = server.rss_kib()?;
    let peak_reset = server.reset_peak_rss();
    if let Err(error) = &peak_reset {
        println!("note: {error:#}; the peak RSS below is the process's lifetime peak");
    }
    fleet.reset();

    // The measured post.
    let expected = fleet.distinct_inboxes(GROUP) as u64;
    let posted = Instant::now();
    let answer = client
        .post(format!("{}/api/v1/statuses", server.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "status": "One post to every follower, from perch-bench fanout.",
            "visibility": "public",
        }))
        .send()
        .await
        .context("posting the status")?;
    let answered = posted.elapsed();
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    anyhow::ensure!(
        status.is_success(),
        "POST /api/v1/statuses answered {status}: {text}"
    );
    let (ended, _) = wait::until_count(expected, POLL, STALL, deadline, async || {
        Ok(fleet.count(GROUP, "Create"))
    })
    .await?;
    let tally = fleet.tally(GROUP, "Create");
    let (pending, failed) = settle(&mut counter, deadline).await?;
    let peak_kib = server.peak_rss_kib()?;
    counter.close().await;

    let elapsed = tally
        .last
        .map_or(Duration::ZERO, |last| last.duration_since(posted));
    let seconds = elapsed.as_secs_f64().max(1e-9);
    let per_inbox = followers as f64 / expected.max(1) as f64;
    let reached = (tally.inboxes.len() as f64 * per_inbox).min(followers as f64);
    println!(
        "post: answered in {:.1} ms; {} Create requests ({} signed) reached {} of {expected} inboxes ({ended:?}); \
         first {:.1} ms, last {:.1} ms after the POST began",
        answered.as_secs_f64() * 1000.0,
        tally.requests,
        tally.signed,
        tally.inboxes.len(),
        tally
            .first
            .map_or(f64::NAN, |t| t.duration_since(posted).as_secs_f64()
                * 1000.0),
        seconds * 1000.0
    );
    println!(
        "post: {:.0} deliveries/s, {:.0} followers reached/s; queue after: {pending} pending, {failed} failed; \
         RSS {:.1} MiB before the post, peak {:.1} MiB",
        tally.requests as f64 / seconds,
        reached / seconds,
        idle_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0
    );

    let backend = ctx.backend();
    let (sign_name, sign_rate) = ctx.machine.sign_rate();
    let complete = ended == Ended::Reached;
    let rate = |value: f64| if complete { value } else { f64::NAN };
    rows.push(
        Row::new(
            "fan-out",
            backend,
            format!("deliveries/s ({label})"),
            rate(tally.requests as f64 / seconds),
        )
        .unit("/s")
        .against(&sign_name, sign_rate)
        .target(Target::RatioAtLeast(0.5)),
    );
    rows.push(
        Row::new(
            "fan-out",
            backend,
            format!("followers reached/s ({label})"),
            rate(reached / seconds),
        )
        .unit("/s")
        .against(&sign_name, sign_rate),
    );
    rows.push(
        Row::new(
            "fan-out",
            backend,
            format!("signatures made ({label})"),
            tally.signed as f64,
        )
        .target(Target::Equal(expected as f64)),
    );
    let peak_name = if peak_reset.is_ok() {
        "peak RSS during fan-out"
    } else {
        "peak RSS (lifetime)"
    };
    rows.push(
        Row::new(
            "fan-out",
            backend,
            format!("{peak_name} ({label})"),
            peak_kib as f64 / 1024.0,
        )
        .unit("MiB")
        .against("RSS before the post", idle_kib as f64 / 1024.0)
        .target(Target::AtMost(100.0)),
    );
    rows.push(
        Row::new(
            "fan-out",
            backend,
            format!("jobs left pending or failed ({label})"),
            (pending + failed) as f64,
        )
        .target(Target::Equal(0.0)),
    );
    Ok(())
}

async fn followers_count(counter: &mut Counter) -> anyhow::Result<u64> {
    Ok(counter.followers_of(TARGET_USER).await?.max(0) as u64)
}

/// Waits (bounded) until the delivery queue has no pending job; returns
/// (pending, failed).
async fn settle(counter: &mut Counter, deadline: Instant) -> anyhow::Result<(i64, i64)> {
    let until = deadline.min(Instant::now() + STALL);
    loop {
        let (pending, _, failed) = counter.deliveries_by_state().await?;
        if pending == 0 || Instant::now() >= until {
            return Ok((pending, failed));
        }
        tokio::time::sleep(DB_POLL).await;
    }
}
