//! Federation between complete instances in one process.

mod chat;
mod follows;
mod inbox;
mod inbox_notes;
mod key_refetch;
mod queue;
mod slow_peers;
mod statuses;
