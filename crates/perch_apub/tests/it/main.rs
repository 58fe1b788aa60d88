//! perch_apub's integration tests, on SQLite and (when the test script
//! provides one) PostgreSQL.

mod fixtures;
mod publish;
