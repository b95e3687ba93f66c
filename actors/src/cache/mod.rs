//! What a node keeps in memory beside its actors, read and written by request threads directly:
//! no actor owns these, each is a bounded concurrent cache.
//!
//! - [`private_chats`]: each pair's private chat, once it exists;
//! - [`users`]: users as every page reads them, for a few seconds.

pub mod private_chats;
pub mod users;

pub use private_chats::PrivateChats;
pub use users::UserCache;
