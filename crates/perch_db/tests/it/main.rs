//! perch_db's integration tests, run against a fresh database each: SQLite,
//! or PostgreSQL when the test script provides `PERCH_TEST_POSTGRES_URL`.

mod accounts;
mod blocks;
mod deliveries;
mod follows;
mod media;
mod migrations;
mod nodes;
mod polls;
mod retention;
mod schema;
mod signature_schemes;
mod user_events;
