//! Scenario `chat`: how long a chat message takes from its sender to its
//! recipient over WebSocket, among many connected users.
//!
//! 1. Set-up (timed, reported on its own): starts the server with open
//!    registrations and signs up `--users` accounts through the API (see
//!    `accounts`); pairs them (0 with 1, 2 with 3…) and opens each pair's
//!    chat (`POST /api/v1/pleroma/chats/by-account-id/:id`); connects every
//!    user to `/api/v1/streaming?stream=user`, as a chat client does.
//! 2. Baseline, on the same connections and server: for `--ping-seconds`,
//!    WebSocket pings at the same aggregate rate, each answered by the
//!    server's session loop with a pong. Its p50 and p99 are the transport's
//!    floor: the same sockets, tasks, runtime and machine, without the chat.
//! 3. Chat: for `--seconds`, every user sends its partner a `chat_message`
//!    frame (with a client id) on a schedule that adds up to `--rate`
//!    messages per second, evenly spread (see `traffic`). The latency of a
//!    message is the time the recipient's connection read its
//!    `chat_message` event minus the time the sender wrote the frame, on
//!    this process's one clock. Reported: p50 and p99 against the ping's,
//!    and messages that never arrived (within 5 s of the last send) or were
//!    refused with an error frame.
//! 4. On PostgreSQL, again across two processes: a second `perch serve` on
//!    the same database; each pair's second user reconnects to it, so that
//!    every message is sent to one process and received from the other
//!    (through `LISTEN`/`NOTIFY`).
//!
//! The load generator shares the machine's two cores with the server, as
//! every scenario's does; it does little per message (one frame written,
//! a few parsed).

mod traffic;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::Value;

use crate::Ctx;
use crate::accounts::{self, Account};
use crate::report::{Row, Rows, Target};
use crate::server::Server;
use crate::ws::{self, Ws};
use traffic::{Kind, Member, Outcome, Plan};

#[derive(clap::Args, Clone)]
pub struct Args {
    /// Users, each connected by one WebSocket, chatting in pairs
    #[arg(long, default_value_t = 1_000)]
    users: usize,
    /// Chat messages per second, all users together
    #[arg(long, default_value_t = 1_000.0)]
    rate: f64,
    /// How long the chat is measured, in seconds
    #[arg(long, default_value_t = 15.0)]
    seconds: f64,
    /// How long the ping baseline is measured, in seconds
    #[arg(long, default_value_t = 5.0)]
    ping_seconds: f64,
    /// Sign-ups in flight at once
    #[arg(long, default_value_t = 8)]
    sign_up_concurrency: usize,
}

/// How long messages still on their way are waited for.
const DRAIN: Duration = Duration::from_secs(5);
/// Connections and chats being opened at once.
const OPEN_CONCURRENCY: usize = 32;

pub async fn run(ctx: &Ctx, args: &Args, rows: &mut Rows) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.users >= 2 && args.users % 2 == 0,
        "--users must be even and at least 2"
    );
    anyhow::ensure!(args.rate > 0.0, "--rate must be positive");
    ws::raise_open_files_limit();
    let mut server = Server::start_with(
        &ctx.perch,
        ctx.postgres.as_deref(),
        &accounts::SIGN_UP_SETTINGS,
    )
    .await?;
    println!(
        "server under test at {} on {}",
        server.base,
        server.database.backend()
    );
    let outcome = scenario(ctx, args, &server, rows).await;
    server.stop_and_report().await;
    outcome
}

async fn scenario(ctx: &Ctx, args: &Args, server: &Server, rows: &mut Rows) -> anyhow::Result<()> {
    let backend = ctx.backend();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;

    let started = Instant::now();
    let accounts = accounts::sign_up_many(
        &client,
        &server.base,
        "chatter",
        args.users,
        args.sign_up_concurrency,
        ctx.deadline,
    )
    .await?;
    let signed_up = started.elapsed();
    let chats = open_chats(&client, &server.base, &accounts).await?;
    let members: Arc<Vec<Member>> = Arc::new(
        (0..args.users)
            .map(|n| Member {
                partner: n ^ 1,
                chat_id: chats[n / 2].clone(),
            })
            .collect(),
    );
    let sockets = connect(&accounts, |_| server.base.as_str(), ctx.deadline).await?;
    let setup = started.elapsed();
    println!(
        "set-up: {} sign-ups in {:.1} s ({:.0}/s), {} chats and {} connections; {:.1} s in all",
        args.users,
        signed_up.as_secs_f64(),
        args.users as f64 / signed_up.as_secs_f64().max(1e-9),
        chats.len(),
        args.users,
        setup.as_secs_f64()
    );

    let plan = |kind, seconds| Plan {
        kind,
        users: args.users,
        rate: args.rate,
        seconds,
        drain: DRAIN,
    };
    let (sockets, mut ping) = traffic::run(
        plan(Kind::Ping, args.ping_seconds),
        members.clone(),
        sockets,
        ctx.deadline,
    )
    .await;
    report("ping → pong", &mut ping, args.ping_seconds);
    let sockets = reopen(sockets, &accounts, |_| server.base.as_str(), ctx.deadline).await?;
    let (sockets, mut chat) = traffic::run(
        plan(Kind::Chat, args.seconds),
        members.clone(),
        sockets,
        ctx.deadline,
    )
    .await;
    report("chat, one process", &mut chat, args.seconds);

    let scale = format!("{} users, {:.0} msg/s", thousands(args.users), args.rate);
    rows.push(
        Row::new(
            "chat",
            backend,
            format!(
                "set-up: {} sign-ups, chats, connections",
                thousands(args.users)
            ),
            setup.as_secs_f64(),
        )
        .unit("s"),
    );
    let (ping50, ping99) = (
        ping.latencies.percentile_ms(0.5),
        ping.latencies.percentile_ms(0.99),
    );
    let ping_name = |p| format!("WebSocket ping → pong {p}, same connections");
    push_latency(
        rows,
        backend,
        &format!("{scale}, one process"),
        &mut chat,
        (&ping_name("p50"), ping50),
        (&ping_name("p99"), ping99),
    );

    if ctx.postgres.is_some() {
        let sibling = server.start_sibling(&ctx.perch).await?;
        println!("second server at {} on the same database", sibling.base);
        let across = async {
            // Each pair's second user moves to the second process.
            let mut sockets = sockets;
            for (n, socket) in sockets.iter_mut().enumerate() {
                if n % 2 == 1 {
                    if let Some(mut ws) = socket.take() {
                        let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
                    }
                }
            }
            let base_of = |n: usize| {
                if n % 2 == 1 {
                    sibling.base.as_str()
                } else {
                    server.base.as_str()
                }
            };
            let sockets = reopen(sockets, &accounts, base_of, ctx.deadline).await?;
            let (_, chat) = traffic::run(
                plan(Kind::Chat, args.seconds),
                members.clone(),
                sockets,
                ctx.deadline,
            )
            .await;
            anyhow::Ok(chat)
        }
        .await;
        sibling.stop().await;
        let mut across = across?;
        report("chat, two processes", &mut across, args.seconds);
        push_latency(
            rows,
            backend,
            &format!("{scale}, two processes"),
            &mut across,
            (&ping_name("p50"), ping50),
            (&ping_name("p99"), ping99),
        );
    }
    Ok(())
}

fn push_latency(
    rows: &mut Rows,
    backend: &str,
    what: &str,
    outcome: &mut Outcome,
    p50: (&str, f64),
    p99: (&str, f64),
) {
    rows.push(
        Row::new(
            "chat",
            backend,
            format!("sender → recipient p50 ({what})"),
            outcome.latencies.percentile_ms(0.5),
        )
        .unit("ms")
        .against(p50.0, p50.1),
    );
    rows.push(
        Row::new(
            "chat",
            backend,
            format!("sender → recipient p99 ({what})"),
            outcome.latencies.percentile_ms(0.99),
        )
        .unit("ms")
        .against(p99.0, p99.1)
        .target(Target::AtMost(50.0)),
    );
    rows.push(
        Row::new(
            "chat",
            backend,
            format!("messages lost or refused ({what})"),
            (outcome.lost() + outcome.errors) as f64,
        )
        .target(Target::Equal(0.0)),
    );
}

fn report(name: &str, outcome: &mut Outcome, seconds: f64) {
    let latencies = &mut outcome.latencies;
    println!(
        "{name}: {} sent ({:.0}/s over {:.1} s, planned {seconds} s), {} received; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} error frames, {} connections closed",
        outcome.sent,
        outcome.sent as f64 / outcome.sending.as_secs_f64().max(1e-9),
        outcome.sending.as_secs_f64(),
        latencies.len(),
        latencies.percentile_ms(0.5),
        latencies.percentile_ms(0.9),
        latencies.percentile_ms(0.99),
        latencies.percentile_ms(1.0),
        outcome.errors,
        outcome.closed
    );
    if let Some(sample) = &outcome.error_sample {
        println!("  first error frame: {sample}");
    }
}

/// Each pair's chat, opened by its first member.
async fn open_chats(
    client: &reqwest::Client,
    base: &str,
    accounts: &[Account],
) -> anyhow::Result<Vec<String>> {
    let pairs = accounts.len() / 2;
    let mut chats = vec![String::new(); pairs];
    let opened = futures_util::stream::iter(0..pairs)
        .map(|pair| async move {
            let (me, other) = (&accounts[2 * pair], &accounts[2 * pair + 1]);
            let chat: Value = client
                .post(format!(
                    "{base}/api/v1/pleroma/chats/by-account-id/{}",
                    other.id
                ))
                .bearer_auth(&me.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let id = chat["id"]
                .as_str()
                .with_context(|| format!("no chat id in {chat}"))?
                .to_owned();
            anyhow::Ok((pair, id))
        })
        .buffer_unordered(OPEN_CONCURRENCY);
    futures_util::pin_mut!(opened);
    while let Some(outcome) = opened.next().await {
        let (pair, id) = outcome.context("opening a chat")?;
        chats[pair] = id;
    }
    Ok(chats)
}

/// Every user's connection, the n-th to `base_of(n)`.
async fn connect<'a>(
    accounts: &[Account],
    base_of: impl Fn(usize) -> &'a str,
    deadline: Instant,
) -> anyhow::Result<Vec<Ws>> {
    reopen(
        accounts.iter().map(|_| None).collect(),
        accounts,
        base_of,
        deadline,
    )
    .await
}

/// The connections, with those missing opened again.
async fn reopen<'a>(
    sockets: Vec<Option<Ws>>,
    accounts: &[Account],
    base_of: impl Fn(usize) -> &'a str,
    deadline: Instant,
) -> anyhow::Result<Vec<Ws>> {
    let missing: Vec<usize> = (0..sockets.len())
        .filter(|&n| sockets[n].is_none())
        .collect();
    let opened = ws::open_many(
        missing.len(),
        OPEN_CONCURRENCY,
        |i| ws::user_stream_url(base_of(missing[i]), &accounts[missing[i]].token),
        deadline,
    )
    .await;
    if let Some(error) = opened.first_error {
        bail!(
            "{} connections failed to open; the first: {error}",
            opened.failures
        );
    }
    let mut sockets = sockets;
    for (i, ws) in opened.sockets.into_iter().enumerate() {
        sockets[missing[i]] = ws;
    }
    sockets
        .into_iter()
        .map(|ws| ws.context("a connection did not open in time"))
        .collect()
}

fn thousands(n: usize) -> String {
    crate::report::number(n as f64, "")
}
