//! Federation between complete instances in one process.

mod blocks;
mod chat;
mod conversations;
mod domain_blocks;
mod fedify;
mod follows;
mod inbox;
mod inbox_notes;
mod interop;
mod interop_activities;
mod key_fetch_limit;
mod key_refetch;
mod moderation;
mod moves;
mod notification_requests;
mod pins;
mod polls;
mod profiles;
mod queue;
mod reports;
mod search;
mod secure_mode;
mod signatures;
mod slow_peers;
mod statuses;
mod transfer;
