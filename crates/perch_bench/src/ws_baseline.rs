//! `perch-bench ws-baseline` (hidden): the baseline of the `connections`
//! scenario. A bare WebSocket server in the stack Perch is built on (tokio,
//! hyper, axum, tungstenite), with their default settings, that accepts
//! connections on `/ws` and holds them, reading until the client goes: what
//! an idle WebSocket costs when nothing is done about it.
//!
//! The scenario starts it as a child process on a loopback port; it exits
//! when its standard input closes, so it never outlives the bench.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use tokio::io::AsyncReadExt;

#[derive(clap::Args)]
pub struct Args {
    /// The loopback port to listen on
    #[arg(long)]
    port: u16,
}

pub async fn serve(args: Args) -> anyhow::Result<()> {
    let address = SocketAddr::from(([127, 0, 0, 1], args.port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {address}"))?;
    let app = Router::new().route("/ws", get(upgrade));
    let parent_gone = async {
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 64];
        while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(parent_gone)
        .await
        .context("serving")
}

async fn upgrade(upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(hold)
}

async fn hold(mut socket: WebSocket) {
    while let Some(Ok(_)) = socket.recv().await {}
}
