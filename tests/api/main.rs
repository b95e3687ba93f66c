//! API tests: the real HTTP stack over a real PostgreSQL database per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod accounts;
mod avatars;
mod body_timeout;
mod comments;
mod counts;
mod feed;
mod friendship;
mod hardening;
mod helpers;
mod janitor;
mod likes;
mod limits;
mod message_edits;
mod observability;
mod posts;
mod read_receipts;
mod realtime;
mod resume;
mod round_trips;
mod search;
mod sends;
mod service;
mod sessions;
mod typing;
mod users;
mod walls;
mod websocket;
