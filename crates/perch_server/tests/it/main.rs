//! perch_server's integration tests: real servers on 127.0.0.1 port 0 with
//! their own fresh database (SQLite, or PostgreSQL when the test script
//! provides `PERCH_TEST_POSTGRES_URL`), and the real `perch` binary.

mod account_search;
mod announcements;
mod binary;
mod blocks;
mod bookmarks;
mod chat;
mod client_libraries;
mod conversations;
mod cors;
mod crash;
mod discovery;
mod emojis;
mod featured_tags;
mod filters;
mod followed_tags;
mod grouped_notifications;
mod http;
mod inbound_crash;
mod instance;
mod jwt;
mod lists;
mod media;
mod metadata;
mod moderation;
mod notes;
mod notification_policy;
mod oauth;
mod pins;
mod polls;
mod profile;
mod proxies;
mod push;
mod reading;
mod reports;
mod roles;
mod scheduled;
mod search;
mod security;
mod signup;
mod socket_access;
mod statuses;
mod streaming;
mod support;
mod trends;
