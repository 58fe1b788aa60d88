//! Federation between complete instances in one process.

mod follows;
mod inbox;
mod statuses;
