//! Test harness: servers from `perch_server::testing` as these tests run
//! them ([`spawn_app`]), and helpers to run the `perch` binary.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use perch_server::config::Config;
pub use perch_server::testing::TestServer as TestApp;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Start an app after `adjust` has changed its configuration. Its delivery
/// and inbound workers run, as in production, and its instance details and
/// token lifetimes are the ones these tests check.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::start_with(|config| {
        config.access_token_ttl = Duration::from_secs(3600);
        config.refresh_token_ttl = Duration::from_secs(86400);
        config.instance_title = "Perch test".to_owned();
        config.instance_description = "A test instance".to_owned();
        config.contact_email = "admin@perch.test".to_owned();
        config.delivery_worker = true;
        config.inbox_worker = true;
        adjust(config);
    })
    .await
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

/// `perch user create` for `username` (password on standard input), with
/// the database and public URL a later `perch serve` will use.
pub fn create_user_with_binary(
    dir: &Path,
    database_url: &str,
    public_url: &str,
    username: &str,
    password: &str,
) {
    let mut create = perch(dir);
    create
        .args(["user", "create", "--username", username, "--email"])
        .arg(format!("{username}@example.com"))
        .arg("--password-stdin")
        .env("PERCH_DATABASE_URL", database_url)
        .env("PERCH_PUBLIC_URL", public_url);
    let created = run_with_stdin(create, &format!("{password}\n"));
    assert!(created.status.success(), "{}", stdout(&created));
}

/// A `perch serve` process, as an operator runs it.
pub struct ServedPerch {
    pub base_url: String,
    child: Option<std::process::Child>,
    stderr_lines: std::sync::mpsc::Receiver<String>,
    /// Lines read but not matched yet: a line logged before the one a test
    /// waited for first is still found when it waits for it next.
    unmatched: Vec<String>,
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
            unmatched: Vec::new(),
        };
        served.wait_for_line("perch is serving", Duration::from_secs(60));
        served
    }

    /// Wait until the server logs a line containing `needle` (or find it
    /// among the lines read while waiting for others).
    pub fn wait_for_line(&mut self, needle: &str, deadline: Duration) -> String {
        if let Some(at) = self.unmatched.iter().position(|l| l.contains(needle)) {
            return self.unmatched.remove(at);
        }
        let started = std::time::Instant::now();
        loop {
            let left = deadline.saturating_sub(started.elapsed());
            match self.stderr_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => self.unmatched.push(line),
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
