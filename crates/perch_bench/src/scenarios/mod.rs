//! One module per scenario. Each has clap `Args` (whose defaults are what
//! `perch-bench all` runs) and `run(ctx, args, rows)`, which starts what it
//! needs, measures and pushes its rows.

pub mod backlog;
pub mod chat;
pub mod connections;
pub mod fanout;
pub mod footprint;
pub mod inbound;
pub mod retention;
pub mod timeline;
