//! Test harness: `spawn_app()` and helpers to run the `perch` binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use perch_db::Db;
use perch_db::testing::TestDatabase;
use perch_server::Application;
use perch_server::config::Config;
use tokio_util::sync::CancellationToken;

/// A running server with its own database and data directory.
pub struct TestApp {
    pub address: std::net::SocketAddr,
    pub base_url: String,
    pub db: Db,
    /// The database's URL, for running the `perch` binary against it.
    pub database_url: String,
    pub ids: std::sync::Arc<perch_core::id::IdGenerator>,
    /// The live-event bus (tests publish through it directly).
    pub bus: perch_db::live::Bus,
    pub client: reqwest::Client,
    stop: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Start an app after `adjust` has changed its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let database = TestDatabase::create().await;
    let data_dir = tempfile::tempdir().expect("temporary data dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let address = listener.local_addr().expect("bound address");
    let base_url = format!("http://{address}");
    let mut config = test_config(&base_url, data_dir.path(), database.url());
    adjust(&mut config);
    let app = Application::build_with_listener(config, listener)
        .await
        .expect("app builds");
    let db = app.db().clone();
    let ids = app.ids();
    let bus = app.apub().bus.clone();
    let stop = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(stop.clone().cancelled_owned()));
    TestApp {
        address,
        base_url,
        db,
        database_url: database.url().to_owned(),
        ids,
        bus,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        stop,
        server: Some(server),
        _database: database,
        _data_dir: data_dir,
    }
}

pub fn test_config(public_url: &str, data_dir: &Path, database_url: &str) -> Config {
    Config {
        access_token_ttl: std::time::Duration::from_secs(3600),
        refresh_token_ttl: std::time::Duration::from_secs(86400),
        instance_title: "Perch test".to_owned(),
        instance_description: "A test instance".to_owned(),
        contact_email: "admin@perch.test".to_owned(),
        ..Config::for_development(
            public_url.parse().expect("valid URL"),
            data_dir,
            database_url,
        )
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// A local user made directly (as `perch user create` does); returns
    /// the account id.
    pub async fn create_user(&self, username: &str, password: &str) -> i64 {
        self.create_account(username, password, false).await
    }

    /// Like [`TestApp::create_user`], with administrator rights.
    pub async fn create_admin(&self, username: &str, password: &str) -> i64 {
        self.create_account(username, password, true).await
    }

    async fn create_account(&self, username: &str, password: &str, admin: bool) -> i64 {
        use perch_core::account::{Email, Password, Username};
        use perch_domain::accounts::{NewAccount, create_local_account};
        let new = NewAccount {
            username: Username::parse(username).expect("valid username"),
            email: Email::parse(&format!("{username}@example.com")).expect("valid email"),
            password: Password::parse(password).expect("valid password"),
            admin,
            approved: true,
            locale: "en".to_owned(),
            phone: None,
            reason: None,
        };
        let public_url = self.base_url.parse().expect("valid URL");
        create_local_account(&self.db, &self.ids, &public_url, new)
            .await
            .expect("account created")
            .id
    }

    /// Stop the server the way a signal does, and wait for it to finish.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        let server = self.server.take().expect("running");
        tokio::time::timeout(Duration::from_secs(30), server)
            .await
            .expect("server stops within the deadline")
            .expect("server task did not panic")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The `perch` binary with a clean environment: no stray `PERCH_*`
/// variables, run in `dir` so no `perch.toml` is picked up by accident.
pub fn perch(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_perch"));
    for (name, _) in std::env::vars() {
        if name.starts_with("PERCH_") {
            command.env_remove(name);
        }
    }
    command.current_dir(dir).env("PERCH_LOG", "warn");
    command
}

/// Run to completion with `stdin` as standard input.
pub fn run_with_stdin(mut command: Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("perch starts");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    wait_with_deadline(child, Duration::from_secs(60))
}

/// Wait for a child process, killing it if it outlives `deadline`.
pub fn wait_with_deadline(child: std::process::Child, deadline: Duration) -> Output {
    let pid = child.id();
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match outcome.recv_timeout(deadline) {
        Ok(output) => output.expect("collect output"),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("perch did not exit within {deadline:?}");
        }
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A `perch serve` process, as an operator runs it.
pub struct ServedPerch {
    pub base_url: String,
    child: Option<std::process::Child>,
    stderr_lines: std::sync::mpsc::Receiver<String>,
}

impl ServedPerch {
    /// Start `perch serve` in `dir` on a free loopback port with `vars` set,
    /// and wait (with a deadline) until it says it is serving.
    pub fn start(dir: &Path, vars: &[(&str, &str)]) -> ServedPerch {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let base_url = format!("http://127.0.0.1:{port}");
        let mut command = perch(dir);
        command
            .arg("serve")
            .env("PERCH_BIND", format!("127.0.0.1:{port}"))
            .env("PERCH_PUBLIC_URL", &base_url)
            .env("PERCH_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in vars {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("perch starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let (lines, stderr_lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let mut served = ServedPerch {
            base_url,
            child: Some(child),
            stderr_lines,
        };
        served.wait_for_line("perch is serving", Duration::from_secs(60));
        served
    }

    /// Wait until the server logs a line containing `needle`.
    pub fn wait_for_line(&mut self, needle: &str, deadline: Duration) -> String {
        let started = std::time::Instant::now();
        loop {
            let left = deadline.saturating_sub(started.elapsed());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("perch did not log `{needle}` within {deadline:?}"),
            }
        }
    }

    /// SIGKILL: the process dies at once, in the middle of whatever it was
    /// doing.
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL sent");
            child.wait().expect("reaped");
        }
    }

    /// SIGTERM, then wait for a clean exit; returns the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let output = wait_with_deadline(child, Duration::from_secs(60));
        output.status
    }
}

impl Drop for ServedPerch {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
