//! The Nosebook monolith: its two doors (the HTTP API and the web app) over the use cases of
//! `nosebook_core`, configuration, start-up and the data sets it ships.
//! See ARCHITECTURE.md for the picture.

pub mod api;
pub mod body_timeout;
pub mod cli;
pub mod config;
pub mod http;
pub mod janitor;
pub mod limits;
pub mod prometheus;
pub mod seed;
pub mod startup;
pub mod traces;
pub mod web;
