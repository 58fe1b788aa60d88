//! The `perch` binary's library: configuration, start-up, the HTTP server's
//! assembly, background workers and graceful shutdown.
//!
//! Entry points: [`config::Config::load`], then [`Application::build`] (or
//! [`Application::build_with_listener`] in tests) and
//! [`Application::run_until_stopped`]. The CLI's subcommands live in
//! [`commands`] and [`announcements`]. With the `testing` feature, the `testing` module starts
//! complete servers for tests.
//!
//! Must not: contain business rules, SQL or protocol JSON; it wires the other
//! crates together.

pub mod announcements;
mod app;
pub mod commands;
pub mod config;
mod cors;
mod ids;
mod maintenance;
mod ops;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::{Application, StartupError};
