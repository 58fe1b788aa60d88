//! WebSocket clients of the streaming endpoint, for the scenarios that hold
//! many connections (`connections`, `chat`), and what they measure with.
//!
//! Clients keep small buffers (a 4 KiB read buffer, frames written as they
//! come) so that ten thousand of them cost this process little, disable
//! Nagle's algorithm as interactive clients do, and give up on a connection
//! that is not open within [`CONNECT_TIMEOUT`].

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long opening one connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `ws://…/api/v1/streaming` on the `user` stream, the token in the query
/// as browser clients send it.
pub fn user_stream_url(base: &str, token: &str) -> String {
    format!(
        "{}/api/v1/streaming?stream=user&access_token={token}",
        base.replacen("http", "ws", 1)
    )
}

fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// Opens one connection.
pub async fn connect(url: &str) -> anyhow::Result<Ws> {
    let connecting = tokio_tungstenite::connect_async_with_config(url, Some(client_config()), true);
    let (ws, _) = tokio::time::timeout(CONNECT_TIMEOUT, connecting)
        .await
        .context("the WebSocket was not open in time")?
        .context("opening a WebSocket")?;
    Ok(ws)
}

/// Connections opened by [`open_many`].
pub struct Opened {
    /// The n-th connection at index n; `None` where opening failed.
    pub sockets: Vec<Option<Ws>>,
    pub elapsed: Duration,
    pub failures: usize,
    pub first_error: Option<String>,
}

impl Opened {
    pub fn open(&self) -> usize {
        self.sockets.iter().filter(|s| s.is_some()).count()
    }
}

/// Opens `count` connections, `concurrency` at a time, the n-th to
/// `url_of(n)`; stops opening more at `deadline`.
pub async fn open_many(
    count: usize,
    concurrency: usize,
    url_of: impl Fn(usize) -> String,
    deadline: Instant,
) -> Opened {
    let started = Instant::now();
    let mut sockets: Vec<Option<Ws>> = (0..count).map(|_| None).collect();
    let mut failures = 0;
    let mut first_error = None;
    let attempts = futures_util::stream::iter(0..count)
        .take_while(|_| std::future::ready(Instant::now() < deadline))
        .map(|n| {
            let url = url_of(n);
            async move { (n, connect(&url).await) }
        })
        .buffer_unordered(concurrency.max(1));
    futures_util::pin_mut!(attempts);
    while let Some((n, outcome)) = attempts.next().await {
        match outcome {
            Ok(ws) => sockets[n] = Some(ws),
            Err(error) => {
                failures += 1;
                first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }
    Opened {
        sockets,
        elapsed: started.elapsed(),
        failures,
        first_error,
    }
}

/// How a held connection ended.
#[derive(Debug)]
pub enum Held {
    /// Still open when it was let go.
    Open,
    /// The server closed it, or it failed.
    Closed,
}

/// Holds `ws` idle, reading (so that the server's pings are answered)
/// until `stop` turns true or the server closes it.
pub async fn hold(mut ws: Ws, mut stop: watch::Receiver<bool>) -> Held {
    loop {
        tokio::select! {
            changed = stop.wait_for(|stop| *stop) => {
                let _ = changed;
                return Held::Open;
            }
            message = ws.next() => match message {
                Some(Ok(Message::Close(_))) => return Held::Closed,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Held::Closed,
            },
        }
    }
}

/// Raises this process's soft limit on open files to its hard limit (the
/// servers it starts inherit it); returns the soft limit now in force.
pub fn raise_open_files_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(error) = setrlimit(Resource::Nofile, raised) {
            eprintln!("warning: the open-files limit was not raised: {error}");
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Latencies in microseconds.
#[derive(Default)]
pub struct Latencies(Vec<u32>);

impl Latencies {
    pub fn push(&mut self, latency: Duration) {
        self.0
            .push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
    }

    pub fn extend(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`-quantile (0..=1) in milliseconds, by nearest rank; NaN when
    /// empty.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0.sort_unstable();
        let rank = ((p * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        f64::from(self.0[rank - 1]) / 1000.0
    }
}
