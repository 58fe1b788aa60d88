//! Perch's ActivityPub side: the only crate that knows ActivityPub JSON and
//! the URL layout of actors.
//!
//! Entry points: [`routes::router`] (WebFinger, host-meta, NodeInfo, actor
//! documents and collections, the inbox) over an [`ApubState`]; [`objects`]
//! (protocol types and pure mappers to and from database rows);
//! [`activities`] (one pure builder per activity kind); [`inbox`] (the
//! checks every received activity passes, the inbound queue and its
//! workers, and one handler per activity family); [`ingest`] (fetching
//! what a received note refers to before the domain layer stores it);
//! [`backfill`]; [`publish::ApubPublisher`] (the domain's outbound events as
//! activities and delivery jobs) and [`delivery`] (the worker that signs
//! and sends them); [`resolve`] and [`fetch`] (the one guarded outbound
//! HTTP client); [`instance_actor::ensure`].
//!
//! Every change a received activity causes goes through perch_domain, the
//! same functions the client API calls.
//!
//! Must not: serve the Mastodon client API, or issue SQL (storage goes
//! through perch_db).

pub mod activities;
pub mod backfill;
pub mod delivery;
mod error;
pub mod fetch;
pub mod inbox;
pub mod ingest;
pub mod instance_actor;
pub mod knock;
pub mod lookup;
pub mod objects;
pub mod policy;
pub mod publish;
pub mod resolve;
pub mod routes;
pub mod signatures;
pub mod signer;
mod state;

pub use state::{ApubConfig, ApubState};
