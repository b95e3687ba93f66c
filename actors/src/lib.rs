//! Nosebook's in-process actors.
//!
//! - [`sessions`]: one [`sessions::SessionActor`] per active login session, found through the
//!   [`sessions::SessionDirectory`]. It answers "who is calling?" without a database round trip
//!   and coalesces the activity and expiry writes every request causes.
//! - [`chats`]: the [`chats::ChatWriters`], one per core, writing sends in batches (group commit).
//! - [`send`]: the rules of a send (membership, replies, the message and its event), which the
//!   writers apply under their chats' lock and the main crate's `core` calls before sending.
//! - [`presence`]: the [`presence::PresenceTracker`], this node's live view of who is online.
//! - [`board`]: the map an actor writes and request threads read without its mailbox.
//! - [`cache`]: what no actor owns — bounded caches request threads use directly.

mod batch;
pub mod board;
pub mod cache;
pub mod chats;
pub mod presence;
pub mod send;
pub mod sessions;
pub mod threads;

pub use chats::ChatWriters;
pub use presence::PresenceTracker;
pub use send::{SendMessage, SendRefusal};
pub use sessions::{Authenticate, Caller, EndSession, SessionBoard, SessionDirectory, UserChanged};
