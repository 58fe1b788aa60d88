//! Perch's ActivityPub side: the only crate that knows ActivityPub JSON and
//! the URL layout of actors.
//!
//! Entry points so far: [`urls::ActorUrlLayout`] (where a local actor's id,
//! inbox, outbox and collections live) and [`keys::generate_actor_keys`]
//! (each local actor's RSA-2048 key pair, for HTTP signatures). Actor
//! documents, WebFinger, NodeInfo, the inbox and the delivery worker follow.
//!
//! Must not: serve the Mastodon client API, or issue SQL (storage goes
//! through perch_db).

pub mod keys;
pub mod urls;
