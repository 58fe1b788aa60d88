//! `perch-bench`: end-to-end benchmarks of Perch, run against a real
//! `perch` binary on this machine.
//!
//! Each scenario is a subcommand that starts its own `perch serve`
//! processes on loopback ports with fresh databases (SQLite in a temporary
//! directory, or a new PostgreSQL database dropped afterwards), drives them
//! with a load generator in this process and prints what it measured as
//! `ROW {json}` lines: a figure, the baseline it is divided by (measured in
//! the same run: the machine's bare RSA rates, or the same work done
//! without Perch) and the target it is held to. `all` runs every scenario
//! on SQLite and, with `--postgres`, on PostgreSQL, and writes the table
//! into `docs/PERFORMANCE.md` (`--report`). `scripts/bench` builds the
//! release binaries, starts a throwaway PostgreSQL and runs `all`.
//!
//! Bounds: traffic goes only to 127.0.0.1 (servers and fake peers started
//! here); every loop is bounded in count, and each scenario is abandoned
//! after `--time-limit` seconds. Servers are stopped and their databases
//! removed whatever happens. These are benchmarks: nothing here is a test
//! that passes or fails on timing.

mod accounts;
mod baseline;
mod followers;
mod load;
mod machine;
mod origin;
mod peers;
mod report;
mod scenarios;
mod server;
mod wait;
mod ws;
mod ws_baseline;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use clap::{Args, Parser, Subcommand};

use crate::machine::Machine;
use crate::report::Rows;
use crate::scenarios::{
    backlog, chat, connections, fanout, footprint, inbound, retention, timeline,
};

#[derive(Parser)]
#[command(name = "perch-bench", about = "End-to-end benchmarks of Perch")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Signed Create(Note) activities from many remote actors to one inbox
    Inbound(Run<inbound::Args>),
    /// One post delivered to many followers on many servers
    Fanout(Run<fanout::Args>),
    /// The home timeline of an account following many, over a large database
    Timeline(Run<timeline::Args>),
    /// Chat latency over WebSocket among many connected users
    Chat(Run<chat::Args>),
    /// Memory per idle authenticated WebSocket
    Connections(Run<connections::Args>),
    /// The delivery queue with a large backlog to a slow server
    Backlog(Run<backlog::Args>),
    /// Start-up time and resident memory
    Footprint(Run<footprint::Args>),
    /// Database size after a long ingest with purges, against what it keeps
    Retention(Run<retention::Args>),
    /// Every scenario with its defaults, on SQLite and (with --postgres)
    /// PostgreSQL, written into the report
    All(AllArgs),
    /// A bare WebSocket server holding connections: the baseline that
    /// `connections` starts
    #[command(hide = true)]
    WsBaseline(ws_baseline::Args),
}

#[derive(Args)]
struct Run<A: Args> {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    args: A,
}

#[derive(Args, Clone)]
struct Common {
    /// The `perch` binary under test (a release build)
    #[arg(long, value_name = "PATH")]
    perch: PathBuf,
    /// A PostgreSQL server to create throwaway databases on, e.g.
    /// postgres://perch@127.0.0.1:5432/postgres; SQLite when absent
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// Give up on a scenario after this many seconds
    #[arg(long, default_value_t = 600)]
    time_limit: u64,
}

#[derive(Args)]
struct AllArgs {
    #[command(flatten)]
    common: Common,
    /// Write the table into this Markdown file, between its markers
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Run only these scenarios (by subcommand name), e.g. --only fanout
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

/// What every scenario is given.
pub struct Ctx {
    pub perch: PathBuf,
    /// The PostgreSQL server to use, or SQLite when `None`.
    pub postgres: Option<String>,
    pub machine: Arc<Machine>,
    /// When the scenario is abandoned.
    pub deadline: Instant,
}

impl Ctx {
    pub fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Inbound(run) => single(run, inbound::run).await,
        Command::Fanout(run) => single(run, fanout::run).await,
        Command::Timeline(run) => single(run, timeline::run).await,
        Command::Chat(run) => single(run, chat::run).await,
        Command::Connections(run) => single(run, connections::run).await,
        Command::Backlog(run) => single(run, backlog::run).await,
        Command::Footprint(run) => single(run, footprint::run).await,
        Command::Retention(run) => single(run, retention::run).await,
        Command::All(args) => all(args).await,
        Command::WsBaseline(args) => ws_baseline::serve(args).await,
    }
}

/// Runs one scenario and prints its table.
async fn single<A: Args, F>(run: Run<A>, scenario: F) -> anyhow::Result<()>
where
    F: AsyncFn(&Ctx, &A, &mut Rows) -> anyhow::Result<()>,
{
    let machine = Arc::new(Machine::measure().await?);
    let ctx = ctx(&run.common, run.common.postgres.clone(), machine);
    let mut rows = Rows::default();
    let outcome = bounded(
        &ctx,
        run.common.time_limit,
        scenario(&ctx, &run.args, &mut rows),
    )
    .await;
    println!("\n{}", report::table(&rows.0));
    outcome
}

fn ctx(common: &Common, postgres: Option<String>, machine: Arc<Machine>) -> Ctx {
    Ctx {
        // Servers run in their own directories: a relative path would not
        // name the binary there.
        perch: std::fs::canonicalize(&common.perch).unwrap_or_else(|_| common.perch.clone()),
        postgres,
        machine,
        deadline: Instant::now() + Duration::from_secs(common.time_limit),
    }
}

async fn bounded(
    ctx: &Ctx,
    time_limit: u64,
    work: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    match tokio::time::timeout_at(ctx.deadline.into(), work).await {
        Ok(result) => result,
        Err(_) => Err(anyhow!(
            "the scenario took longer than --time-limit {time_limit} s and was abandoned"
        )),
    }
}

/// A scenario's arguments as their defaults.
fn defaults<A: Args>() -> anyhow::Result<A> {
    let command = A::augment_args(clap::Command::new("defaults").no_binary_name(true));
    let matches = command.try_get_matches_from(Vec::<String>::new())?;
    Ok(A::from_arg_matches(&matches)?)
}

async fn all(args: AllArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let machine = Arc::new(Machine::measure().await?);
    let mut backends = vec![None];
    if let Some(url) = &args.common.postgres {
        backends.push(Some(url.clone()));
    }
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    let mut rows = Rows::default();
    let mut failures = Vec::new();

    macro_rules! scenario {
        ($name:literal, $module:ident, $backends:expr) => {
            if wanted($name) {
                let scenario_args: $module::Args = defaults()?;
                for postgres in $backends {
                    let ctx = ctx(&args.common, postgres.clone(), machine.clone());
                    println!("\n=== {} on {}", $name, ctx.backend());
                    let run = $module::run(&ctx, &scenario_args, &mut rows);
                    if let Err(error) = bounded(&ctx, args.common.time_limit, run).await {
                        eprintln!("{} on {} failed: {error:#}", $name, ctx.backend());
                        failures.push(format!("{} on {}: {error:#}", $name, ctx.backend()));
                    }
                }
            }
        };
    }
    let sqlite_only = [None];
    scenario!("footprint", footprint, &backends);
    scenario!("fanout", fanout, &backends);
    scenario!("inbound", inbound, &backends);
    scenario!("timeline", timeline, &backends);
    scenario!("chat", chat, &backends);
    scenario!("connections", connections, &sqlite_only);
    scenario!("backlog", backlog, &backends);
    scenario!("retention", retention, &backends);

    let table = report::table(&rows.0);
    println!("\n{table}");
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    println!("all scenarios took {minutes:.1} minutes");
    if let Some(path) = &args.report {
        let mut generated = format!(
            "Run of {} at commit {} on {}; {:.1} minutes in all.\n\n{table}",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            commit(),
            machine.description,
            minutes
        );
        for failure in &failures {
            generated.push_str(&format!("\nNot measured: {failure}\n"));
        }
        report::write_into(path, &generated)?;
        println!("written into {}", path.display());
    }
    match failures.len() {
        0 => Ok(()),
        n => Err(anyhow!("{n} scenario runs failed")),
    }
}

/// The commit being measured, as `scripts/bench` passes it.
fn commit() -> String {
    std::env::var("PERCH_BENCH_COMMIT").unwrap_or_else(|_| "(unknown)".to_owned())
}
