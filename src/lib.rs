//! The Nosebook monolith: HTTP API, configuration, start-up and the data sets it ships.
//! See ARCHITECTURE.md for the picture.

pub mod api;
pub mod avatar_decodes;
pub mod body_timeout;
pub mod cli;
pub mod config;
pub mod core;
pub mod domain;
pub mod http;
pub mod janitor;
pub mod limits;
pub mod passwords;
pub mod prometheus;
pub mod seed;
pub mod startup;
pub mod state;
pub mod storage;
pub mod traces;
pub mod web;
