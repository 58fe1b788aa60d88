//! Perch's ActivityPub side: the only crate that knows ActivityPub JSON and
//! the URL layout of actors.
//!
//! Entry points: [`routes::router`] (WebFinger, host-meta, NodeInfo, actor
//! documents) over an [`ApubState`]; [`objects`] (protocol types and pure
//! mappers to and from database rows); [`urls::ActorUrlLayout`] (where a
//! local actor's id, inbox, outbox and collections live);
//! [`keys::generate_actor_keys`] and [`instance_actor::ensure`]. The inbox
//! and the delivery worker follow.
//!
//! Must not: serve the Mastodon client API, or issue SQL (storage goes
//! through perch_db).

pub mod activities;
pub mod backfill;
pub mod delivery;
pub mod fetch;
pub mod inbox;
pub mod instance_actor;
pub mod keys;
pub mod notes;
pub mod objects;
pub mod publish;
pub mod resolve;
pub mod routes;
pub mod signatures;
pub mod signer;
mod state;
pub mod urls;

pub use state::{ApubConfig, ApubState};
