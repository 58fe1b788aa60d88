//! Scenario `footprint`: how fast the server starts and how much memory it
//! holds once it has served a little.
//!
//! 1. Starts the server once (which creates and migrates its database and
//!    one user) and stops it with SIGTERM, so that what follows is a second
//!    start: the database exists and is migrated, as on every restart.
//! 2. Cold start, `--starts` times: the time from spawning `perch serve`
//!    until `GET /health` first answers 200, probed every millisecond (a
//!    refused connection costs microseconds) by a client made beforehand;
//!    the process is stopped with SIGTERM between starts. Median and best.
//!    Baseline: spawning `perch --version` until it exits, as many times;
//!    the floor of starting this binary at all (loading, relocation, the
//!    runtime's start-up and argument parsing).
//! 3. Memory, after the last start: resident memory (`VmRSS`) half a second
//!    after `/health` answered (the baseline: idle, right after start);
//!    then warm-up, as an app signs in (an application, a password grant,
//!    one of each call below) and `--calls` authenticated API calls, in
//!    rounds of: verify_credentials, home timeline, instance (v1), post a
//!    status, local public timeline, notifications, the account's
//!    statuses, favourite the status, show it, instance (v2). Reported
//!    after a settling second, with its anonymous part (`RssAnon`: heap
//!    and stacks; the rest is the binary's and libraries' pages mapped
//!    from the page cache). The peak (`VmHWM`) is printed too.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::Ctx;
use crate::report::{Row, Rows, Target};
use crate::server::{Server, TARGET_USER};

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Cold starts measured (and `perch --version` runs)
    #[arg(long, default_value_t = 10)]
    starts: usize,
    /// Authenticated API calls after warm-up
    #[arg(long, default_value_t = 100)]
    calls: usize,
}

/// How long a stopping server may take before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How often `/health` is probed while the server starts.
const PROBE_EVERY: Duration = Duration::from_millis(1);

pub async fn run(ctx: &Ctx, args: &Args, rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::ensure!(args.starts > 0, "--starts must be at least 1");
    let mut server = Server::start(&ctx.perch, ctx.postgres.as_deref()).await?;
    println!(
        "server under test at {} on {}",
        server.base,
        server.database.backend()
    );
    let outcome = scenario(ctx, args, &mut server, rows).await;
    server.stop_and_report().await;
    outcome
}

async fn scenario(
    ctx: &Ctx,
    args: &Args,
    server: &mut Server,
    rows: &mut Rows,
) -> anyhow::Result<()> {
    let backend = ctx.backend();
    server.shut_down(STOP_GRACE).await?;

    let mut version = Vec::with_capacity(args.starts);
    for _ in 0..args.starts {
        version.push(version_run(ctx).await?);
    }
    let probe = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        // A new connection per probe: none left from the last process.
        .pool_max_idle_per_host(0)
        .build()?;
    let mut starts = Vec::with_capacity(args.starts);
    for n in 0..args.starts {
        if Instant::now() > ctx.deadline {
            bail!("the time limit came during the cold starts");
        }
        let spawned = server.restart(&ctx.perch)?;
        server.wait_until_healthy(&probe, PROBE_EVERY).await?;
        starts.push(spawned.elapsed());
        if n + 1 < args.starts {
            server.shut_down(STOP_GRACE).await?;
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "cold starts to /health (ms): {}",
        starts
            .iter()
            .map(|d| format!("{:.1}", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "`perch --version` (ms): {}",
        version
            .iter()
            .map(|d| format!("{:.1}", ms(*d)))
            .collect::<Vec<_>>()
            .join(", ")
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_kib = server.rss_kib()?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    let token = server.token(&client, TARGET_USER).await?;
    let api = Api {
        client: &client,
        base: &server.base,
        token: &token,
    };
    let me = api
        .call("GET", "/api/v1/accounts/verify_credentials", None)
        .await?;
    let me = me["id"].as_str().context("no account id")?.to_owned();
    let mut failures = Vec::new();
    round(&api, &me, 0, 10, &mut failures).await;
    let warm_kib = server.rss_kib()?;
    let mut made = 0;
    let mut n = 1;
    while made < args.calls {
        let calls = (args.calls - made).min(10);
        round(&api, &me, n, calls, &mut failures).await;
        made += calls;
        n += 1;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_kib = server.rss_kib()?;
    let (anon_kib, file_kib) = server.rss_parts_kib()?;
    let peak_kib = server.peak_rss_kib()?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "RSS: {:.1} MiB idle after start, {:.1} MiB after warm-up, {:.1} MiB after {} more calls; peak (VmHWM) {:.1} MiB",
        mib(idle_kib),
        mib(warm_kib),
        mib(after_kib),
        args.calls,
        mib(peak_kib)
    );
    println!(
        "  of which {:.1} MiB anonymous (heap, stacks) and {:.1} MiB mapped from files (the binary, libraries)",
        mib(anon_kib),
        mib(file_kib)
    );
    for failure in failures.iter().take(5) {
        println!("  failed call: {failure}");
    }

    let median = |d: &[Duration]| ms(median(d));
    let best = |d: &[Duration]| ms(d.iter().copied().min().unwrap_or_default());
    rows.push(
        Row::new(
            "footprint",
            backend,
            format!(
                "cold start to /health, median of {} (migrated database)",
                args.starts
            ),
            median(&starts),
        )
        .unit("ms")
        .against("`perch --version` spawn to exit, median", median(&version))
        .target(Target::AtMost(60.0)),
    );
    rows.push(
        Row::new(
            "footprint",
            backend,
            format!("cold start to /health, best of {}", args.starts),
            best(&starts),
        )
        .unit("ms")
        .against("`perch --version`, best", best(&version)),
    );
    rows.push(
        Row::new(
            "footprint",
            backend,
            format!("RSS after warm-up and {} API calls", args.calls),
            mib(after_kib),
        )
        .unit("MiB")
        .against("RSS idle right after start", mib(idle_kib))
        .target(Target::AtMost(18.0)),
    );
    rows.push(
        Row::new(
            "footprint",
            backend,
            "… of which anonymous (RssAnon: heap, stacks)",
            mib(anon_kib),
        )
        .unit("MiB"),
    );
    rows.push(
        Row::new(
            "footprint",
            backend,
            "API calls that failed",
            failures.len() as f64,
        )
        .target(Target::Equal(0.0)),
    );
    Ok(())
}

/// `perch --version`, from spawn to exit.
async fn version_run(ctx: &Ctx) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        Command::new(&ctx.perch)
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .status(),
    )
    .await
    .context("`perch --version` took more than 10 s")??;
    let elapsed = started.elapsed();
    if !status.success() {
        bail!("`perch --version` failed: {status}");
    }
    Ok(elapsed)
}

fn median(durations: &[Duration]) -> Duration {
    let mut sorted = durations.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// Authenticated calls to the server's API.
struct Api<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
    token: &'a str,
}

impl Api<'_> {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "POST" => self.client.post(url),
            _ => self.client.get(url),
        };
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let answer = request.bearer_auth(self.token).send().await?;
        let status = answer.status();
        if !status.is_success() {
            bail!("{method} {path} answered {status}");
        }
        Ok(answer.json().await.unwrap_or(Value::Null))
    }
}

/// The first `calls` (at most 10) of one round of the mix; failures are
/// noted, not fatal.
async fn round(api: &Api<'_>, me: &str, n: usize, calls: usize, failures: &mut Vec<String>) {
    let mut status_id = String::new();
    for step in 0..calls.min(10) {
        let outcome = match step {
            0 => {
                api.call("GET", "/api/v1/accounts/verify_credentials", None)
                    .await
            }
            1 => api.call("GET", "/api/v1/timelines/home", None).await,
            2 => api.call("GET", "/api/v1/instance", None).await,
            3 => {
                let body = json!({ "status": format!("footprint {n}"), "visibility": "public" });
                let posted = api.call("POST", "/api/v1/statuses", Some(body)).await;
                if let Ok(status) = &posted {
                    status_id = status["id"].as_str().unwrap_or_default().to_owned();
                }
                posted
            }
            4 => {
                api.call("GET", "/api/v1/timelines/public?local=true", None)
                    .await
            }
            5 => api.call("GET", "/api/v1/notifications", None).await,
            6 => {
                let path = format!("/api/v1/accounts/{me}/statuses");
                api.call("GET", &path, None).await
            }
            7 => {
                let path = format!("/api/v1/statuses/{status_id}/favourite");
                api.call("POST", &path, None).await
            }
            8 => {
                let path = format!("/api/v1/statuses/{status_id}");
                api.call("GET", &path, None).await
            }
            _ => api.call("GET", "/api/v2/instance", None).await,
        };
        if let Err(error) = outcome {
            failures.push(format!("{error:#}"));
        }
    }
}
