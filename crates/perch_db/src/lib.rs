//! Perch's storage: the only crate that speaks SQL.
//!
//! One [`Db`] handle covers both backends: SQLite (the embedded default) and
//! PostgreSQL (production). Queries are written once as static SQL with bound
//! parameters (`$1`, `$2`… — both backends accept that form) and compiled for
//! each backend by the `on_db!`/`on_tx!` macros, so the two cannot drift
//! apart. Where the dialects really differ (queue claiming with
//! `FOR UPDATE SKIP LOCKED`, `LISTEN/NOTIFY`), a module matches on the backend
//! explicitly. Migrations live in the workspace's `migrations/{sqlite,postgres}`
//! and are embedded in the binary.
//!
//! Entry points: [`Db::connect`], [`Db::migrate`], then one module per entity
//! ([`accounts`], [`statuses`], [`follows`], [`deliveries`], [`inbound`]…). Row types are plain structs; turning them into
//! API JSON or ActivityPub objects is other crates' work.
//!
//! Must not: build HTTP responses or ActivityPub JSON, or format SQL from input.

#[macro_use]
mod macros;

pub mod accounts;
pub mod actors;
pub mod announcements;
pub mod blocks;
pub mod bookmarks;
pub mod chats;
pub mod conversations;
pub mod deliveries;
pub mod discovery;
pub mod domain_blocks;
pub mod emojis;
mod error;
pub mod favourites;
pub mod featured_tags;
pub mod filters;
pub mod follows;
pub mod inbound;
pub mod jwt_keys;
pub mod lists;
pub mod live;
pub mod media;
pub mod moderation;
pub mod nodes;
pub mod notification_groups;
pub mod notification_policies;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod page;
pub mod pins;
pub mod polls;
mod pool;
pub mod presence;
pub mod profiles;
pub mod push;
pub mod reports;
pub mod retention;
pub mod scheduled_statuses;
pub mod search;
pub mod signature_schemes;
pub mod statuses;
pub mod tag_follows;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timelines;
pub mod transfer;
pub mod user_events;
pub mod users;

pub use error::{Error, Result};
pub use pool::{Backend, ConnectOptions, Db, Tx, redact_url};
