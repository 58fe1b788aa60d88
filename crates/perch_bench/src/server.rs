//! The server under test: a real `perch serve` process on a loopback port,
//! with its own fresh database, and a read-only view of that database.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

/// The local user every activity addresses.
pub const TARGET_USER: &str = "target";
/// The password of every user the bench creates.
pub const PASSWORD: &str = "bench-password-not-secret";
/// How long the server may take to answer after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `perch user create` (which migrates first) may take.
const CREATE_USER_TIMEOUT: Duration = Duration::from_secs(120);

/// The server's fresh database.
pub enum Database {
    Sqlite {
        path: PathBuf,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl Database {
    /// A new SQLite file in `dir`, or a new database on the PostgreSQL
    /// server at `admin_url` with a name no other run uses.
    async fn create(dir: &Path, postgres: Option<&str>) -> anyhow::Result<Database> {
        let Some(admin_url) = postgres else {
            return Ok(Database::Sqlite {
                path: dir.join("perch.db"),
            });
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let name = format!("perch_bench_{}_{nanos:x}", std::process::id());
        let mut conn = PgConnection::connect(admin_url)
            .await
            .context("connecting to the PostgreSQL server given by --postgres")?;
        // The name is made above from digits and letters, never from input.
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .with_context(|| format!("creating database {name}"))?;
        let _ = conn.close().await;
        let mut url = url::Url::parse(admin_url).context("--postgres is not a URL")?;
        url.set_path(&name);
        Ok(Database::Postgres {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        })
    }

    fn url(&self) -> String {
        match self {
            Database::Sqlite { path } => format!("sqlite://{}", path.display()),
            Database::Postgres { url, .. } => url.clone(),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Database::Sqlite { .. } => "SQLite",
            Database::Postgres { .. } => "PostgreSQL",
        }
    }

    /// Drops a PostgreSQL database (a SQLite file goes with its directory).
    async fn drop_database(&self) -> anyhow::Result<()> {
        if let Database::Postgres {
            admin_url, name, ..
        } = self
        {
            let mut conn = PgConnection::connect(admin_url).await?;
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .with_context(|| format!("dropping database {name}"))?;
            let _ = conn.close().await;
        }
        Ok(())
    }
}

/// A read-only connection that counts what the server stored.
pub enum Counter {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Counter {
    /// Statuses received from other servers.
    pub async fn remote_statuses(&mut self) -> anyhow::Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM statuses WHERE NOT local";
        let count: i64 = match self {
            Counter::Sqlite(conn) => sqlx::query_scalar(SQL).fetch_one(conn).await?,
            Counter::Postgres(conn) => sqlx::query_scalar(SQL).fetch_one(conn).await?,
        };
        Ok(count)
    }

    /// Accounts following the local account `username`.
    pub async fn followers_of(&mut self, username: &str) -> anyhow::Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM follows f \
             JOIN accounts a ON a.id = f.target_account_id \
             WHERE a.username = $1 AND a.domain IS NULL";
        let count: i64 = match self {
            Counter::Sqlite(conn) => {
                sqlx::query_scalar(SQL)
                    .bind(username)
                    .fetch_one(conn)
                    .await?
            }
            Counter::Postgres(conn) => {
                sqlx::query_scalar(SQL)
                    .bind(username)
                    .fetch_one(conn)
                    .await?
            }
        };
        Ok(count)
    }

    /// The delivery queue's jobs by state: (pending, delivered, failed).
    pub async fn deliveries_by_state(&mut self) -> anyhow::Result<(i64, i64, i64)> {
        const SQL: &str = "SELECT \
             COALESCE(SUM(CASE WHEN state = 0 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 1 THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 2 THEN 1 ELSE 0 END), 0) \
             FROM deliveries";
        let counts: (i64, i64, i64) = match self {
            Counter::Sqlite(conn) => sqlx::query_as(SQL).fetch_one(conn).await?,
            Counter::Postgres(conn) => sqlx::query_as(SQL).fetch_one(conn).await?,
        };
        Ok(counts)
    }

    pub async fn close(self) {
        let _ = match self {
            Counter::Sqlite(conn) => conn.close().await,
            Counter::Postgres(conn) => conn.close().await,
        };
    }
}

/// A running `perch serve`.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    pub database: Database,
    /// Extra `PERCH_*` settings for every command run against it.
    env: Vec<(String, String)>,
    child: Option<Child>,
    log_path: PathBuf,
    // Removed (with the SQLite file and the server's data) when dropped.
    _dir: tempfile::TempDir,
}

/// Lines of the server's log worth a look.
pub struct LogSummary {
    pub errors: usize,
    pub warnings: usize,
    pub samples: Vec<String>,
}

impl Server {
    /// Creates the database and the target user, starts the server and
    /// waits until it answers.
    pub async fn start(perch: &Path, postgres: Option<&str>) -> anyhow::Result<Server> {
        Server::start_with(perch, postgres, &[]).await
    }

    /// [`Server::start`] with extra settings, e.g.
    /// `("PERCH_DELIVERY_WORKER", "false")`.
    pub async fn start_with(
        perch: &Path,
        postgres: Option<&str>,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("perch-bench-")
            .tempdir()
            .context("creating a temporary directory")?;
        let database = Database::create(dir.path(), postgres).await?;
        let port = free_port()?;
        let mut server = Server {
            base: format!("http://127.0.0.1:{port}"),
            database,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            child: None,
            log_path: dir.path().join("perch.log"),
            _dir: dir,
        };
        match server.launch(perch, port).await {
            Ok(()) => Ok(server),
            Err(error) => {
                let tail = server.log_tail(20);
                server.stop().await;
                Err(error.context(format!("server log (last lines):\n{tail}")))
            }
        }
    }

    fn command(&self, perch: &Path, port: u16) -> Command {
        let mut command = Command::new(perch);
        command.current_dir(self._dir.path());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("PERCH_") {
                command.env_remove(name);
            }
        }
        command
            .env("PERCH_PUBLIC_URL", &self.base)
            .env("PERCH_BIND", format!("127.0.0.1:{port}"))
            .env("PERCH_DATA_DIR", self._dir.path().join("data"))
            .env("PERCH_DATABASE_URL", self.database.url())
            .env("PERCH_ALLOW_PRIVATE_ADDRESSES", "true")
            // The fake origins bring thousands of new actors at once.
            .env("PERCH_KEY_FETCHES_PER_MINUTE", "1000000")
            .env("PERCH_LOG", server_log_filter())
            .kill_on_drop(true);
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    async fn launch(&mut self, perch: &Path, port: u16) -> anyhow::Result<()> {
        let log = std::fs::File::create(&self.log_path)?;

        let mut create = self.command(perch, port);
        create
            .args(["user", "create", "--username", TARGET_USER])
            .args(["--email", "t@example.com", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?);
        let mut child = create
            .spawn()
            .with_context(|| format!("starting {}", perch.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await?;
        }
        let status = tokio::time::timeout(CREATE_USER_TIMEOUT, child.wait())
            .await
            .context("`perch user create` took too long")??;
        if !status.success() {
            bail!("`perch user create` failed: {status}");
        }

        let mut serve = self.command(perch, port);
        serve
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        self.child = Some(serve.spawn().context("starting `perch serve`")?);

        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()?;
        let probe = format!("{}/users/{TARGET_USER}", self.base);
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!("`perch serve` exited early: {status}");
                }
            }
            let answer = client
                .get(&probe)
                .header("accept", "application/activity+json")
                .send()
                .await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                bail!("`perch serve` did not answer within {READY_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The `perch serve` command for this server's database, port and data
    /// directory, its output appended to the server's log.
    fn serve_command(&self, perch: &Path, port: u16, data_dir: &Path) -> anyhow::Result<Command> {
        let log = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&self.log_path)?;
        let mut serve = self.command(perch, port);
        serve
            .arg("serve")
            .env("PERCH_DATA_DIR", data_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        Ok(serve)
    }

    fn port(&self) -> anyhow::Result<u16> {
        url::Url::parse(&self.base)?
            .port()
            .context("the server's URL has no port")
    }

    /// Stops `perch serve` as an operator would, with SIGTERM (SIGKILL
    /// after `grace`), and keeps the database for [`Server::restart`].
    pub async fn shut_down(&mut self, grace: Duration) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, grace).await?;
        }
        Ok(())
    }

    /// Starts `perch serve` again on the same database and port, after
    /// [`Server::shut_down`], without waiting: the instant returned is taken
    /// just before the process is spawned.
    pub fn restart(&mut self, perch: &Path) -> anyhow::Result<Instant> {
        anyhow::ensure!(self.child.is_none(), "the server is still running");
        let mut serve = self.serve_command(perch, self.port()?, &self._dir.path().join("data"))?;
        let spawned = Instant::now();
        self.child = Some(serve.spawn().context("starting `perch serve`")?);
        Ok(spawned)
    }

    /// Waits until `/health` answers 200, probing every `poll` with
    /// `client` (made beforehand, so that its set-up is not timed).
    pub async fn wait_until_healthy(
        &mut self,
        client: &reqwest::Client,
        poll: Duration,
    ) -> anyhow::Result<()> {
        let child = self.child.as_mut().context("the server is not running")?;
        wait_for_health(child, client, &self.base, poll).await
    }

    /// A second `perch serve` process on this server's database, on its own
    /// port and data directory, under the same public URL (as behind a load
    /// balancer); ready when it returns. Only PostgreSQL can share a
    /// database between processes.
    pub async fn start_sibling(&self, perch: &Path) -> anyhow::Result<Sibling> {
        let port = free_port()?;
        let data_dir = self._dir.path().join(format!("data-{port}"));
        let mut serve = self.serve_command(perch, port, &data_dir)?;
        let mut child = serve.spawn().context("starting a second `perch serve`")?;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()?;
        let ready = wait_for_health(&mut child, &client, &base, Duration::from_millis(20)).await;
        if let Err(error) = ready {
            let _ = terminate(&mut child, Duration::from_secs(5)).await;
            return Err(error.context(format!("server log (last lines):\n{}", self.log_tail(20))));
        }
        Ok(Sibling { base, child })
    }

    /// The process id of `perch serve`.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The resident memory of `perch serve` now, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        let pid = self.pid().context("the server is not running")?;
        rss_kib(pid)
    }

    /// The resident memory of `perch serve` now, in KiB, split into
    /// anonymous memory (heap, stacks: `RssAnon`) and pages mapped from
    /// files (the binary and its libraries: `RssFile`).
    pub fn rss_parts_kib(&self) -> anyhow::Result<(u64, u64)> {
        let pid = self.pid().context("the server is not running")?;
        Ok((
            proc_status_kib(pid, "RssAnon:")?,
            proc_status_kib(pid, "RssFile:")?,
        ))
    }

    /// The most resident memory `perch serve` has had so far, in KiB
    /// (`VmHWM`).
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        let pid = self.pid().context("the server is not running")?;
        proc_status_kib(pid, "VmHWM:")
    }

    /// Sets `PERCH_*` setting `name` for what is started from now on
    /// (e.g. before [`Server::restart`]).
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_owned(), value.to_owned()));
    }

    /// The server's `/metrics` page (Prometheus text format).
    pub async fn metrics(&self, client: &reqwest::Client) -> anyhow::Result<String> {
        Ok(client
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }

    /// Resets the peak resident memory (`VmHWM`) to the current one, so
    /// that [`Server::peak_rss_kib`] reports the peak of what follows
    /// (`/proc/PID/clear_refs`, Linux 4.0 and later).
    pub fn reset_peak_rss(&self) -> anyhow::Result<()> {
        let pid = self.pid().context("the server is not running")?;
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
            .with_context(|| format!("resetting the peak RSS of process {pid}"))
    }

    /// An access token with the `read write follow` scopes for `username`
    /// (whose password is [`PASSWORD`]): an application registered through
    /// `/api/v1/apps`, then the password grant at `/oauth/token`.
    pub async fn token(&self, client: &reqwest::Client, username: &str) -> anyhow::Result<String> {
        let app: serde_json::Value = client
            .post(format!("{}/api/v1/apps", self.base))
            .json(&serde_json::json!({
                "client_name": "perch-bench",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow",
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token: serde_json::Value = client
            .post(format!("{}/oauth/token", self.base))
            .json(&serde_json::json!({
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": username,
                "password": PASSWORD,
                "scope": "read write follow",
            }))
            .send()
            .await?
            .json()
            .await?;
        token["access_token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no access token for {username}: {token}"))
    }

    /// A read-only connection to the server's database.
    pub async fn counter(&self) -> anyhow::Result<Counter> {
        Ok(match &self.database {
            Database::Sqlite { path } => {
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true)
                    .busy_timeout(Duration::from_secs(5));
                Counter::Sqlite(SqliteConnection::connect_with(&options).await?)
            }
            Database::Postgres { url, .. } => Counter::Postgres(PgConnection::connect(url).await?),
        })
    }

    fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Warnings and errors the server logged so far.
    pub fn log_summary(&self) -> LogSummary {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let mut summary = LogSummary {
            errors: 0,
            warnings: 0,
            samples: Vec::new(),
        };
        for line in text.lines() {
            let error = line.contains(" ERROR ");
            let warning = line.contains(" WARN ");
            summary.errors += usize::from(error);
            summary.warnings += usize::from(warning);
            if (error || warning) && summary.samples.len() < 5 {
                summary.samples.push(line.chars().take(300).collect());
            }
        }
        summary
    }

    /// Stops the server, drops its database and prints what it logged.
    pub async fn stop_and_report(&mut self) {
        let log = self.log_summary();
        self.stop().await;
        println!(
            "server log: {} errors, {} warnings",
            log.errors, log.warnings
        );
        for line in &log.samples {
            println!("  {line}");
        }
    }

    /// Stops the server and drops its database. With
    /// `PERCH_BENCH_SERVER_LOG` set, the server's log is kept in the
    /// temporary directory's parent, and its name printed.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        }
        if std::env::var_os(SERVER_LOG).is_some() {
            if let Some(dir) = self._dir.path().parent() {
                let name = self._dir.path().file_name().unwrap_or_default();
                let kept = dir.join(name).with_extension("log");
                if std::fs::copy(&self.log_path, &kept).is_ok() {
                    println!("server log kept in {}", kept.display());
                }
            }
        }
        if let Err(error) = self.database.drop_database().await {
            eprintln!("warning: {error:#}");
        }
    }
}

/// A second `perch serve` on a [`Server`]'s database (see
/// [`Server::start_sibling`]); it logs into the same file.
pub struct Sibling {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    child: Child,
}

impl Sibling {
    /// Stops it with SIGTERM (SIGKILL after a few seconds).
    pub async fn stop(mut self) {
        if let Err(error) = terminate(&mut self.child, Duration::from_secs(10)).await {
            eprintln!("warning: stopping the second server: {error:#}");
        }
    }
}

/// SIGTERM, then SIGKILL if `child` has not exited within `grace`.
async fn terminate(child: &mut Child, grace: Duration) -> anyhow::Result<()> {
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);
    let Some(pid) = pid else {
        // Already reaped.
        return Ok(());
    };
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    if tokio::time::timeout(grace, child.wait()).await.is_err() {
        child.start_kill()?;
        tokio::time::timeout(grace, child.wait())
            .await
            .context("the server did not exit after SIGKILL")??;
    }
    Ok(())
}

/// Polls `GET {base}/health` every `poll` until it answers 200, while
/// `child` runs.
async fn wait_for_health(
    child: &mut Child,
    client: &reqwest::Client,
    base: &str,
    poll: Duration,
) -> anyhow::Result<()> {
    let probe = format!("{base}/health");
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("`perch serve` exited early: {status}");
        }
        let answer = client.get(&probe).send().await;
        if answer.is_ok_and(|a| a.status().is_success()) {
            return Ok(());
        }
        if started.elapsed() > READY_TIMEOUT {
            bail!("`perch serve` did not answer /health within {READY_TIMEOUT:?}");
        }
        tokio::time::sleep(poll).await;
    }
}

/// Overrides the servers' `PERCH_LOG` (`warn`), e.g. to see their queries
/// while profiling: `PERCH_BENCH_SERVER_LOG=sqlx::query=debug,warn`.
const SERVER_LOG: &str = "PERCH_BENCH_SERVER_LOG";

fn server_log_filter() -> String {
    std::env::var(SERVER_LOG).unwrap_or_else(|_| "warn".to_owned())
}

/// The resident memory of process `pid`, in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    proc_status_kib(pid, "VmRSS:")
}

fn proc_status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no {field} line"))
}

pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
