//! Scenario `inbound`: how fast the inbox takes in activities from other
//! servers, and how fast what it took in is applied.
//!
//! 1. Serves a fake origin in-process on `127.0.0.1:0`: `--actors` Person
//!    documents (`/users/aN`) with their public keys. `--keys` RSA key
//!    pairs are generated and shared round-robin; each actor still has its
//!    own key id, which is all the receiver looks up.
//! 2. Starts the server under test with a fresh database and one local
//!    user, `target`.
//! 3. First contact: one signed `Create(Note)` from each actor, so the
//!    server fetches and stores every actor's key; reported on its own.
//!    Then the burst: `--activities` more at `--concurrency` requests in
//!    flight, each note public and mentioning `target` (so it is stored),
//!    signed just before it is sent (or all beforehand with `--presign`).
//! 4. Reports answers per second (202s), answer times (p50/p90/p99/max)
//!    and other answers. From the start of the burst (after any
//!    presigning) it polls the server's database, read-only, every 150 ms
//!    until every accepted note is stored: applied per second end to end,
//!    and how many were applied while requests were still arriving.
//!
//! The baseline is the machine's RSA-2048 verify rate on all cores: the
//! least work an inbound activity needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Instant;

use anyhow::{Context, anyhow};
use perch_apub::signatures::SigningKey;

use crate::Ctx;
use crate::load::{self, PhaseResult, Sender};
use crate::origin;
use crate::report::{Row, Rows, Target};
use crate::server::Server;

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Activities in the measured burst
    #[arg(long, default_value_t = 20_000)]
    activities: usize,
    /// Remote actors sending them
    #[arg(long, default_value_t = 1_000)]
    actors: usize,
    /// Requests in flight at once
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// RSA key pairs generated, shared round-robin by the actors
    #[arg(long, default_value_t = 16)]
    keys: usize,
    /// Sign every request before the burst instead of just before sending
    /// it, so the generator's signing does not compete with the server
    #[arg(long)]
    presign: bool,
}

pub async fn run(ctx: &Ctx, args: &Args, rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::ensure!(args.actors > 0, "--actors must be at least 1");
    anyhow::ensure!(args.keys > 0, "--keys must be at least 1");
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");

    let started = Instant::now();
    let (public_pems, private_pems) = generate_keys(args.keys).await?;
    let origin = origin::start(args.actors, public_pems).await?;
    let keys = signing_keys(&origin, args.actors, &private_pems).await?;
    println!(
        "{} actors on {}, sharing {} RSA-2048 key pairs round-robin (each actor has its own key id); ready in {:.1} s",
        args.actors,
        origin.base,
        args.keys,
        started.elapsed().as_secs_f64()
    );

    let mut server = Server::start(&ctx.perch, ctx.postgres.as_deref()).await?;
    println!(
        "server under test at {} on {}",
        server.base,
        server.database.backend()
    );
    let outcome = scenario(ctx, args, &server, origin, keys, rows).await;
    server.stop_and_report().await;
    outcome
}

async fn scenario(
    ctx: &Ctx,
    args: &Args,
    server: &Server,
    origin: Arc<origin::Origin>,
    keys: Vec<SigningKey>,
    rows: &mut Rows,
) -> anyhow::Result<()> {
    let deadline = ctx.deadline;
    let sender = Arc::new(Sender::new(
        &server.base,
        origin.clone(),
        keys,
        args.concurrency,
    )?);
    let actors = sender.actors();
    let mut counter = server.counter().await?;
    println!(
        "signing: {}",
        if args.presign {
            "all requests before each phase"
        } else {
            "each request just before it is sent"
        }
    );

    let presign = |seqs: std::ops::Range<usize>| {
        let sender = sender.clone();
        async move {
            if args.presign {
                load::presign(&sender, seqs).await
            } else {
                Ok(load::Presigned::none())
            }
        }
    };

    // First contact: one activity per actor; the server fetches each key.
    let presigned = presign(0..actors).await?;
    let first = load::send(
        sender.clone(),
        load::Kind::Create,
        0..actors,
        args.concurrency,
        presigned,
        deadline,
    )
    .await?;
    let first_stored = load::watch_stored(
        &mut counter,
        Arc::new(AtomicI64::new(first.accepted as i64)),
        Arc::new(AtomicBool::new(true)),
        deadline,
    )
    .await?;
    let fetched = origin
        .actor_fetches
        .load(std::sync::atomic::Ordering::Relaxed);
    let base_count = first_stored.last();

    // The burst, while a poller counts what is stored.
    let presigned = presign(actors..actors + args.activities).await?;
    let target = Arc::new(AtomicI64::new(base_count + args.activities as i64));
    let done = Arc::new(AtomicBool::new(false));
    let poller = {
        let (target, done) = (target.clone(), done.clone());
        async move {
            let stored = load::watch_stored(&mut counter, target, done, deadline).await;
            counter.close().await;
            stored
        }
    };
    let burst = async {
        let burst = load::send(
            sender.clone(),
            load::Kind::Create,
            actors..actors + args.activities,
            args.concurrency,
            presigned,
            deadline,
        )
        .await;
        if let Ok(burst) = &burst {
            target.store(base_count + burst.accepted as i64, Ordering::Release);
        }
        done.store(true, Ordering::Release);
        burst
    };
    let (burst, stored) = tokio::join!(burst, poller);
    let (burst, stored) = (burst?, stored?);

    println!();
    println!(
        "{:<14} {:>6} {:>6} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "phase", "sent", "202", "other", "answers/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    print_phase("first contact", &first);
    print_phase("burst", &burst);
    for sample in first.samples.iter().chain(&burst.samples) {
        println!("  non-202: {sample}");
    }
    if !first.other_statuses.is_empty() || !burst.other_statuses.is_empty() {
        println!(
            "  non-202 by status: first contact {:?}, burst {:?}",
            first.other_statuses, burst.other_statuses
        );
    }
    println!();
    println!(
        "first contact: {} actor documents fetched from the origin; {} notes stored {:.2} s after the last answer",
        fetched,
        first_stored.last(),
        first_stored.reached.map_or(f64::NAN, |d| d.as_secs_f64())
    );
    let burst_stored = stored.last() - base_count;
    let at_last_answer = stored.count_at(burst.elapsed) - base_count;
    let applied_per_sec = match stored.reached {
        Some(at) => {
            println!(
                "burst: all {} accepted notes stored {:.2} s after the burst began ({:.2} s after its last answer); {} were stored when the last answer came",
                burst.accepted,
                at.as_secs_f64(),
                at.as_secs_f64() - burst.elapsed.as_secs_f64(),
                at_last_answer
            );
            let draining = (at.as_secs_f64() - burst.elapsed.as_secs_f64()).max(1e-9);
            println!(
                "burst: applied {:.0}/s while requests were arriving, {:.0}/s after the last answer",
                at_last_answer as f64 / burst.elapsed.as_secs_f64().max(1e-9),
                (burst_stored - at_last_answer) as f64 / draining
            );
            burst_stored as f64 / at.as_secs_f64().max(1e-9)
        }
        None => {
            println!(
                "burst: only {burst_stored} of {} accepted notes were stored when the poller gave up",
                burst.accepted
            );
            f64::NAN
        }
    };
    let answers = burst.answers_per_sec();
    if burst.cut_short || first.cut_short {
        println!("the time limit stopped the sending early");
    }
    let backend = ctx.backend();
    let (verify_name, verify_rate) = ctx.machine.verify_rate();
    let signing = if args.presign {
        "presigned"
    } else {
        "signed at send"
    };
    rows.push(
        Row::new(
            "inbound",
            backend,
            format!("answered/s ({signing})"),
            answers,
        )
        .unit("/s")
        .against(&verify_name, verify_rate),
    );
    rows.push(
        Row::new(
            "inbound",
            backend,
            format!("applied/s ({signing})"),
            applied_per_sec,
        )
        .unit("/s")
        .against(&verify_name, verify_rate)
        .target(Target::RatioAtLeast(0.1)),
    );
    rows.push(Row::new("inbound", backend, "answer p50", burst.percentile_ms(0.5)).unit("ms"));
    rows.push(
        Row::new("inbound", backend, "answer p99", burst.percentile_ms(0.99))
            .unit("ms")
            .target(Target::AtMost(50.0)),
    );
    rows.push(
        Row::new(
            "inbound",
            backend,
            "answers other than 202",
            (burst.others() + first.others()) as f64,
        )
        .target(Target::Equal(0.0)),
    );
    Ok(())
}

fn print_phase(name: &str, phase: &PhaseResult) {
    println!(
        "{:<14} {:>6} {:>6} {:>6} {:>10.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
        name,
        phase.sent,
        phase.accepted,
        phase.others(),
        phase.answers_per_sec(),
        phase.percentile_ms(0.5),
        phase.percentile_ms(0.9),
        phase.percentile_ms(0.99),
        phase.percentile_ms(1.0),
    );
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

/// Each actor's signing key: its own key id, a shared key pair.
pub(super) async fn signing_keys(
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
