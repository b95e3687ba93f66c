//! The use cases every door shares: the JSON API (`api/`), the web app (`web/`) and the events
//! they cause. Each area is one module of plain async functions over [`AppState`] and the
//! signed-in [`Caller`], with typed inputs and outputs; who may do what is decided here, once.
//! The doors only translate — HTTP extractors, the compatibility envelope and its texts, forms,
//! CSRF and templates — and neither door imports the other. This crate knows no HTTP: the doors
//! depend on it, it cannot depend on them.
//!
//! [`AppState`]: crate::state::AppState
//! [`Caller`]: nosebook_actors::Caller

pub mod accounts;
pub mod avatar_decodes;
pub mod caches;
pub mod chats;
pub mod comments;
pub mod domain;
pub mod error;
pub mod feed;
pub mod feed_copier;
pub mod friendship;
pub mod likes;
pub mod limits;
pub mod passwords;
pub mod posts;
pub mod present;
pub mod state;
pub mod storage;
pub mod typing;
pub mod users;
pub mod walls;

pub use error::{CoreError, CoreResult, Kind, Refusal, retry_after_secs};

use nosebook_schema::paging::Cursor;

use crate::domain::text::{Note, Text};

/// Post, comment and message text as people write it; `field` names the input in the refusal.
pub fn text(raw: &str, field: &str) -> CoreResult<Text> {
    Text::parse(raw, field).map_err(|e| CoreError::invalid(Kind::Unknown, e))
}

/// The note of a friend request.
pub fn note(raw: &str, field: &str) -> CoreResult<Note> {
    Note::parse(raw, field).map_err(|e| CoreError::invalid(Kind::Unknown, e))
}

/// A paging cursor as a client sent it; an unreadable one is refused with the list's error type.
pub fn cursor(raw: &str, kind: Kind) -> CoreResult<Cursor> {
    Cursor::parse(raw).map_err(|e| CoreError::invalid(kind, e.to_string()))
}
