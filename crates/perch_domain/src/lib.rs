//! Perch's domain layer: every change of state, whoever asks for it.
//!
//! A REST handler (a local user acting), an inbox worker (a remote server's
//! verified activity), the CLI and the housekeeping jobs all change the
//! database through the functions here: [`statuses`] (post, edit, delete),
//! [`reactions`] (favourite, reblog and their undoing), [`announcements`]
//! (the staff's, and users' reactions to them), [`scheduled`] (statuses
//! to post later), [`follows`]
//! (follow, unfollow, answers to requests, removal of followers),
//! [`chats`] (send, acknowledge, delete), [`conversations`] (direct
//! statuses filed for their participants), [`blocks`] (blocks, mutes,
//! domain blocks by users), [`filters`] (one's filters), [`notifications`]
//! (answers to notification requests), [`polls`] (votes, remote totals, the end of
//! polls), [`accounts`] (creation, purge of a
//! remote account) and [`media`] (the purge of unattached uploads). Each
//! function owns its transaction, takes who acts and, for a remote activity,
//! the [`Received`] id that makes a redelivery a no-op, and applies its
//! effects after the commit in one place ([`Domain`]'s `Change`): live
//! events for streaming and chat, and a wake-up of the delivery worker.
//!
//! Where a local and a remote action differ, the difference is data: a
//! change made by a local account is published (the [`Publisher`] turns the
//! [`perch_core::outbound::Outbound`] event into activities and deliveries
//! inside the same transaction), one received from another server is not.
//!
//! Also here: [`urls::ActorUrlLayout`], the ids this server mints for its
//! actors, statuses and activities, and [`describe`], which turns stored
//! rows into the descriptions the federation layer publishes.
//!
//! Must not: speak HTTP, fetch anything over the network, build
//! ActivityPub JSON (that is the [`Publisher`]'s job, in perch_apub), or
//! issue SQL (storage goes through perch_db).

pub mod accounts;
pub mod announcements;
pub mod blocks;
pub mod chats;
mod context;
pub mod conversations;
pub mod describe;
pub mod emojis;
mod error;
pub mod featured_tags;
pub mod federation;
pub mod filters;
pub mod follows;
pub mod imports;
pub mod lists;
pub mod media;
pub mod moderation;
pub mod notifications;
pub mod pins;
pub mod polls;
pub mod reactions;
pub mod reports;
pub mod scheduled;
pub mod statuses;
pub mod tags;
pub mod urls;

pub use context::{Domain, PublishError, Publisher, Received};
pub use error::DomainError;
