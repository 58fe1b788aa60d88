//! Scenario `backlog`: the delivery queue with a long backlog to one slow
//! server beside healthy ones.
//!
//! 1. Serves two groups of fake servers on `127.0.0.1`: `--healthy`
//!    servers with one follower each, behind a shared inbox, that answer at
//!    once; and one slow server with `--slow-followers` followers, each with
//!    its own inbox, that holds every delivery for `--slow-delay-ms` before
//!    answering 202.
//! 2. Two runs, each on a fresh database, with the delivery worker off
//!    (`PERCH_DELIVERY_WORKER=false`) while the queue is filled:
//!    *without backlog*, only the healthy followers follow `target`; *with
//!    backlog*, the slow server's followers too. `target` then posts
//!    `--posts` public statuses through the REST API, which queues
//!    `--posts` deliveries per healthy server (50,000 by default) and, with
//!    backlog, `--posts` per slow follower (50,000 more).
//! 3. The server is shut down and started again with its delivery worker
//!    on. The healthy inboxes tally each `Create` that arrives: **healthy
//!    deliveries/s** is their count over the time from the first to the
//!    last; the run ends once every healthy delivery arrived.
//! 4. From the server's `/metrics` after the run: the mean and p99 time of
//!    one claim (`perch_delivery_claim_seconds`), and, with backlog, the
//!    most deliveries the slow server held at once (Perch sends at most 4
//!    at a time to one server) and how many it answered meanwhile.
//!
//! Targets: the healthy rate with backlog is at least 0.9 × the rate
//! without (the baseline, measured in the same run), and a claim costs at
//! most 1.5 × as much with the backlog as without.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::Ctx;
use crate::followers;
use crate::peers::{Fleet, GroupSpec};
use crate::report::{Row, Rows, Target};
use crate::server::{Server, TARGET_USER};
use crate::wait::{self, Ended};

const HEALTHY: usize = 0;
const SLOW: usize = 1;
/// How often the fake inboxes' tallies are looked at while waiting.
const POLL: Duration = Duration::from_millis(5);
/// How often the database is counted while waiting for the setup.
const DB_POLL: Duration = Duration::from_millis(200);
/// A wait gives up when its count has not moved for this long.
const STALL: Duration = Duration::from_secs(30);
/// Requests Perch sends to one server at once.
const PER_SERVER: f64 = 4.0;

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Healthy servers, one follower each (behind a shared inbox)
    #[arg(long, default_value_t = 100)]
    healthy: usize,
    /// Followers on the slow server, each with its own inbox
    #[arg(long, default_value_t = 100)]
    slow_followers: usize,
    /// How long the slow server holds each delivery
    #[arg(long, default_value_t = 1_000)]
    slow_delay_ms: u64,
    /// Statuses posted while the worker is off
    #[arg(long, default_value_t = 500)]
    posts: usize,
    /// Statuses posted at once
    #[arg(long, default_value_t = 8)]
    post_concurrency: usize,
    /// RSA key pairs generated, shared round-robin by the actors
    #[arg(long, default_value_t = 8)]
    keys: usize,
}

/// What one run measured.
struct Drained {
    healthy_rate: f64,
    complete: bool,
    claim_mean_ms: f64,
    claim_p99_ms: f64,
    slow_answered: u64,
    slow_max_held: usize,
}

pub async fn run(ctx: &Ctx, args: &Args, rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::ensure!(args.healthy > 0 && args.slow_followers > 0 && args.posts > 0);
    anyhow::ensure!(args.keys > 0 && args.post_concurrency > 0);
    let (public_pems, private_pems) = followers::generate_keys(args.keys).await?;
    let specs = [
        GroupSpec {
            servers: args.healthy,
            actors_per_server: 1,
            shared_inbox: true,
            answer_delay: Duration::ZERO,
        },
        GroupSpec {
            servers: 1,
            actors_per_server: args.slow_followers,
            shared_inbox: false,
            answer_delay: Duration::from_millis(args.slow_delay_ms),
        },
    ];
    let fleet = Fleet::start(&specs, public_pems).await?;
    let without = one_run(ctx, args, &fleet, &private_pems, false).await?;
    let with = one_run(ctx, args, &fleet, &private_pems, true).await?;

    let backend = ctx.backend();
    let backlog = args.slow_followers * args.posts;
    let rate = |d: &Drained| if d.complete { d.healthy_rate } else { f64::NAN };
    rows.push(
        Row::new(
            "queue backlog",
            backend,
            format!("healthy deliveries/s with {backlog} pending to a slow server"),
            rate(&with),
        )
        .unit("/s")
        .against("the same without the backlog", rate(&without))
        .target(Target::RatioAtLeast(0.9)),
    );
    rows.push(
        Row::new(
            "queue backlog",
            backend,
            "mean claim time with the backlog",
            with.claim_mean_ms,
        )
        .unit("ms")
        .against("the same without", without.claim_mean_ms)
        .target(Target::RatioAtMost(1.5)),
    );
    rows.push(
        Row::new(
            "queue backlog",
            backend,
            "p99 claim time with the backlog",
            with.claim_p99_ms,
        )
        .unit("ms")
        .against("the same without", without.claim_p99_ms),
    );
    rows.push(
        Row::new(
            "queue backlog",
            backend,
            "most deliveries the slow server held at once",
            with.slow_max_held as f64,
        )
        .target(Target::AtMost(PER_SERVER)),
    );
    println!(
        "with backlog: the slow server answered {} deliveries while the healthy ones were served",
        with.slow_answered
    );
    Ok(())
}

async fn one_run(
    ctx: &Ctx,
    args: &Args,
    fleet: &Arc<Fleet>,
    private_pems: &[String],
    backlog: bool,
) -> anyhow::Result<Drained> {
    let label = if backlog {
        "with backlog"
    } else {
        "without backlog"
    };
    fleet.reset();
    let mut server = Server::start_with(
        &ctx.perch,
        ctx.postgres.as_deref(),
        &[("PERCH_DELIVERY_WORKER", "false")],
    )
    .await?;
    println!(
        "\n{label}: server under test at {} on {}",
        server.base,
        server.database.backend()
    );
    let outcome = fill_and_drain(ctx, args, fleet, private_pems, backlog, &mut server).await;
    server.stop_and_report().await;
    outcome
}

async fn fill_and_drain(
    ctx: &Ctx,
    args: &Args,
    fleet: &Arc<Fleet>,
    private_pems: &[String],
    backlog: bool,
    server: &mut Server,
) -> anyhow::Result<Drained> {
    let deadline = ctx.deadline;
    let mut actors = fleet.actors(HEALTHY);
    if backlog {
        actors.extend(fleet.actors(SLOW));
    }
    let wanted = actors.len() as u64;
    let sent = followers::follow_target(&server.base, &actors, private_pems, 32, deadline).await?;
    let mut counter = server.counter().await?;
    let (ended, count) = wait::until_count(wanted, DB_POLL, STALL, deadline, async || {
        Ok(counter.followers_of(TARGET_USER).await?.max(0) as u64)
    })
    .await?;
    anyhow::ensure!(
        ended == Ended::Reached,
        "only {count} of {wanted} follows were applied ({} answered 202; {ended:?})",
        sent.accepted
    );

    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()?;
    let token = server.token(&client, TARGET_USER).await?;
    let filled = Instant::now();
    post_many(
        &client,
        &server.base,
        &token,
        args.posts,
        args.post_concurrency,
    )
    .await?;
    let (pending, _, _) = counter.deliveries_by_state().await?;
    counter.close().await;
    println!(
        "queued {pending} deliveries ({} posts) in {:.1} s",
        args.posts,
        filled.elapsed().as_secs_f64()
    );

    server.shut_down(Duration::from_secs(10)).await?;
    server.set_env("PERCH_DELIVERY_WORKER", "true");
    fleet.reset();
    server.restart(&ctx.perch)?;
    server
        .wait_until_healthy(&client, Duration::from_millis(20))
        .await?;
    let expected = (args.healthy * args.posts) as u64;
    let (ended, arrived) = wait::until_count(expected, POLL, STALL, deadline, async || {
        Ok(fleet.count(HEALTHY, "Create"))
    })
    .await?;
    let tally = fleet.tally(HEALTHY, "Create");
    let slow_answered = fleet.count(SLOW, "Create");
    let slow_max_held = fleet.max_in_flight(SLOW);
    let seconds = match (tally.first, tally.last) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64().max(1e-9),
        _ => f64::NAN,
    };
    let metrics = server.metrics(&client).await?;
    let claim_mean_ms = summary_mean(&metrics, "perch_delivery_claim_seconds") * 1000.0;
    let claim_p99_ms = summary_quantile(&metrics, "perch_delivery_claim_seconds", "0.99") * 1000.0;
    println!(
        "{arrived} of {expected} healthy deliveries arrived ({ended:?}) at {:.0}/s; \
         claims: mean {claim_mean_ms:.2} ms, p99 {claim_p99_ms:.2} ms; \
         slow server: {slow_answered} answered, at most {slow_max_held} held at once",
        tally.requests as f64 / seconds
    );
    Ok(Drained {
        healthy_rate: tally.requests as f64 / seconds,
        complete: ended == Ended::Reached,
        claim_mean_ms,
        claim_p99_ms,
        slow_answered,
        slow_max_held,
    })
}

/// Posts `count` public statuses as the token's owner, `concurrency` at a
/// time.
async fn post_many(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, next) = (client.clone(), next.clone());
        let url = format!("{base}/api/v1/statuses");
        let token = token.to_owned();
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(());
                }
                let answer = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&serde_json::json!({
                        "status": format!("Backlog post {n} from perch-bench."),
                        "visibility": "public",
                    }))
                    .send()
                    .await
                    .context("posting a status")?;
                let status = answer.status();
                if !status.is_success() {
                    let text = answer.text().await.unwrap_or_default();
                    anyhow::bail!("POST /api/v1/statuses answered {status}: {text}");
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// The value of the unlabelled sample `name` in a Prometheus text page.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok()).flatten()
    })
}

/// `name_sum / name_count` of a summary, or NaN.
fn summary_mean(metrics: &str, name: &str) -> f64 {
    match (
        sample(metrics, &format!("{name}_sum")),
        sample(metrics, &format!("{name}_count")),
    ) {
        (Some(sum), Some(count)) if count > 0.0 => sum / count,
        _ => f64::NAN,
    }
}

/// Quantile `q` (as written, e.g. "0.99") of a summary, or NaN.
fn summary_quantile(metrics: &str, name: &str, q: &str) -> f64 {
    sample(metrics, &format!("{name}{{quantile=\"{q}\"}}")).unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_read_from_the_prometheus_page() {
        let page = "# TYPE perch_delivery_claim_seconds summary\n\
             perch_delivery_claim_seconds{quantile=\"0.5\"} 0.001\n\
             perch_delivery_claim_seconds{quantile=\"0.99\"} 0.004\n\
             perch_delivery_claim_seconds_sum 0.3\n\
             perch_delivery_claim_seconds_count 150\n";
        let name = "perch_delivery_claim_seconds";
        assert!((summary_mean(page, name) - 0.002).abs() < 1e-12);
        assert_eq!(summary_quantile(page, name, "0.99"), 0.004);
        assert!(summary_mean("", name).is_nan());
    }
}
