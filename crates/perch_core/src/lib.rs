//! Perch's domain vocabulary: identifiers, validated newtypes and the rules
//! that hold no matter how a request arrived (REST, ActivityPub or the CLI).
//!
//! Entry points: [`id::IdGenerator`] for time-sortable ids, the newtypes in
//! [`account`] (constructed once at the edge, then trusted), [`password`]
//! for hashing and verifying local passwords, [`keys`] for actors' RSA key
//! pairs, [`content`] for what typed text becomes (and the one HTML
//! escaper), [`filter`] for what a reader's filters match,
//! [`notifications`] for how notifications are grouped and which ones a
//! recipient's policy holds back, and [`outbound`], the events the domain
//! publishes.
//!
//! Must not: issue SQL, speak HTTP, or build ActivityPub JSON. Everything here
//! is pure or CPU-bound so that it can be unit-tested without I/O.

pub mod account;
pub mod content;
pub mod emoji;
pub mod federation;
pub mod filter;
pub mod id;
pub mod keys;
pub mod notifications;
pub mod outbound;
pub mod password;
pub mod poll;
pub mod rate_limit;
pub mod role;
pub mod status;
pub mod time;
pub mod totp;
