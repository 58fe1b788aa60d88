//! Scenario `connections`: what an idle, authenticated WebSocket costs the
//! server in memory.
//!
//! 1. Starts the server (on SQLite by default: the database plays no part
//!    once a connection is open) and gets `--tokens` access tokens for its
//!    user, `target`: one account on several devices.
//! 2. Warm-up: opens `--warm-up` connections and closes them, so that what
//!    is made once (statement caches, the hub's first use, the worker
//!    threads' allocator arenas) is already in the figure at 0.
//! 3. Reads the server's resident memory (`VmRSS` in `/proc/PID/status`)
//!    once it has settled: sampled every 250 ms until it moved less than
//!    0.5 % over two seconds, 20 s at most.
//! 4. Opens `--connections` WebSockets to
//!    `/api/v1/streaming?stream=user&access_token=…`, as an app would,
//!    `--concurrency` at a time; each is then held idle by a task that reads
//!    it (so that pings are answered) and sends nothing.
//! 5. Reads the settled RSS again. The figure is (RSS at N − RSS at 0) / N,
//!    in KiB per connection.
//!
//! Baseline: the same connections, opened by the same client code, to
//! `perch-bench ws-baseline`, a bare axum WebSocket server with default
//! settings (tungstenite's 128 KiB read buffer) that only holds them,
//! started as a child process; the same formula. Also reported: connections
//! opened per second, and connections that failed to open or that the server
//! closed while they were idle (there should be none).

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use crate::Ctx;
use crate::report::{Row, Rows, Target};
use crate::server::{self, Server, TARGET_USER};
use crate::ws::{self, Held};

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Idle WebSockets held open at once
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Access tokens of the one account the connections share (devices)
    #[arg(long, default_value_t = 4)]
    tokens: usize,
    /// Connections being opened at once
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Connections opened and closed before the first measurement
    #[arg(long, default_value_t = 16)]
    warm_up: usize,
}

/// How long RSS may take to settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(20);
const SETTLE_WINDOW: usize = 8;
const SETTLE_EVERY: Duration = Duration::from_millis(250);

/// One server's figures.
struct Measured {
    before_kib: u64,
    after_kib: u64,
    open: usize,
    opened_per_sec: f64,
    failed: usize,
    closed: usize,
    settled: bool,
}

impl Measured {
    fn kib_each(&self) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) / self.open.max(1) as f64
    }

    fn print(&self, name: &str) {
        println!(
            "{name}: RSS {:.1} MiB at 0, {:.1} MiB with {} open{}; {:.2} KiB each; opened {:.0}/s; {} failed to open, {} closed while idle",
            self.before_kib as f64 / 1024.0,
            self.after_kib as f64 / 1024.0,
            self.open,
            if self.settled { "" } else { " (still moving)" },
            self.kib_each(),
            self.opened_per_sec,
            self.failed,
            self.closed
        );
    }
}

pub async fn run(ctx: &Ctx, args: &Args, rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    anyhow::ensure!(args.tokens > 0, "--tokens must be at least 1");
    let limit = ws::raise_open_files_limit();
    let needed = (args.connections + args.warm_up + 512) as u64;
    if limit < needed {
        bail!(
            "{} connections need about {needed} open files in this process and in the server, but the limit is {limit}: raise it (ulimit -n)",
            args.connections
        );
    }
    println!("open-files limit: {limit} (inherited by the servers started)");

    let baseline = bare_server(ctx, args).await?;
    baseline.print("bare axum WebSocket server");

    let mut server = Server::start(&ctx.perch, ctx.postgres.as_deref()).await?;
    println!(
        "server under test at {} on {}",
        server.base,
        server.database.backend()
    );
    let outcome = perch(ctx, args, &server).await;
    server.stop_and_report().await;
    let measured = outcome?;
    measured.print("perch");

    let backend = ctx.backend();
    rows.push(
        Row::new(
            "connections",
            backend,
            format!(
                "RSS per idle WebSocket ({} open, user stream)",
                thousands(measured.open)
            ),
            measured.kib_each(),
        )
        .unit("KiB")
        .against(
            "bare axum WebSocket, default settings (KiB each)",
            baseline.kib_each(),
        )
        .target(Target::AtMost(16.0)),
    );
    rows.push(
        Row::new(
            "connections",
            backend,
            format!("WebSockets opened/s ({} at a time)", args.concurrency),
            measured.opened_per_sec,
        )
        .unit("/s")
        .against("bare axum WebSocket (/s)", baseline.opened_per_sec),
    );
    rows.push(
        Row::new(
            "connections",
            backend,
            "WebSockets failed to open or closed while idle",
            (measured.failed + measured.closed) as f64,
        )
        .target(Target::Equal(0.0)),
    );
    Ok(())
}

async fn perch(ctx: &Ctx, args: &Args, server: &Server) -> anyhow::Result<Measured> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut tokens = Vec::with_capacity(args.tokens);
    for _ in 0..args.tokens {
        tokens.push(server.token(&client, TARGET_USER).await?);
    }
    let pid = server.pid().context("the server is not running")?;
    let base = server.base.clone();
    let url_of = move |n: usize| ws::user_stream_url(&base, &tokens[n % tokens.len()]);
    measure(ctx, args, pid, url_of).await
}

/// Starts `perch-bench ws-baseline` and measures it.
async fn bare_server(ctx: &Ctx, args: &Args) -> anyhow::Result<Measured> {
    let port = server::free_port()?;
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = Command::new(exe)
        .args(["ws-baseline", "--port", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting perch-bench ws-baseline")?;
    let outcome = async {
        wait_for_port(&mut child, port).await?;
        let pid = child.id().context("ws-baseline exited")?;
        let url_of = move |_| format!("ws://127.0.0.1:{port}/ws");
        measure(ctx, args, pid, url_of).await
    }
    .await;
    // Closing its standard input stops it.
    drop(child.stdin.take());
    if tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    outcome
}

async fn wait_for_port(child: &mut Child, port: u16) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("ws-baseline exited early: {status}");
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(10) {
            bail!("ws-baseline did not listen within 10 s");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Warm-up, RSS at 0, N connections held idle, RSS at N.
async fn measure(
    ctx: &Ctx,
    args: &Args,
    pid: u32,
    url_of: impl Fn(usize) -> String,
) -> anyhow::Result<Measured> {
    let warm = ws::open_many(args.warm_up, args.concurrency, &url_of, ctx.deadline).await;
    if let Some(error) = &warm.first_error {
        bail!("warm-up connections failed: {error}");
    }
    for mut ws in warm.sockets.into_iter().flatten() {
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    }
    let (before_kib, settled_before) = settled_rss(pid, ctx.deadline).await?;

    let opened = ws::open_many(args.connections, args.concurrency, &url_of, ctx.deadline).await;
    let open = opened.open();
    if let Some(error) = &opened.first_error {
        println!(
            "{} connections failed to open; the first: {error}",
            opened.failures
        );
    }
    let opened_per_sec = open as f64 / opened.elapsed.as_secs_f64().max(1e-9);
    let (stop, stopped) = watch::channel(false);
    let holders: Vec<_> = opened
        .sockets
        .into_iter()
        .flatten()
        .map(|ws| tokio::spawn(ws::hold(ws, stopped.clone())))
        .collect();
    let (after_kib, settled_after) = settled_rss(pid, ctx.deadline).await?;
    let _ = stop.send(true);
    let mut closed = 0;
    for holder in holders {
        if !matches!(holder.await, Ok(Held::Open)) {
            closed += 1;
        }
    }
    Ok(Measured {
        before_kib,
        after_kib,
        open,
        opened_per_sec,
        failed: args.connections - open,
        closed,
        settled: settled_before && settled_after,
    })
}

/// RSS in KiB once it stops moving, and whether it did before the limit.
async fn settled_rss(pid: u32, deadline: Instant) -> anyhow::Result<(u64, bool)> {
    let give_up = deadline.min(Instant::now() + SETTLE_LIMIT);
    let mut window: Vec<u64> = Vec::with_capacity(SETTLE_WINDOW);
    loop {
        let rss = server::rss_kib(pid)?;
        if window.len() == SETTLE_WINDOW {
            window.remove(0);
        }
        window.push(rss);
        let (low, high) = window
            .iter()
            .fold((u64::MAX, 0), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if window.len() == SETTLE_WINDOW && (high - low) as f64 <= high as f64 * 0.005 {
            return Ok((rss, true));
        }
        if Instant::now() >= give_up {
            return Ok((rss, false));
        }
        tokio::time::sleep(SETTLE_EVERY).await;
    }
}

fn thousands(n: usize) -> String {
    crate::report::number(n as f64, "")
}
