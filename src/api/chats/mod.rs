//! Chats and messages (docs/API.md §5.7), private and group, and the `chat_updated` announcements.

pub mod add_members;
pub mod create_group;
pub mod edit_message;
pub mod get;
pub mod leave;
pub mod list;
pub mod messages;
pub mod read;
pub mod remove_message;
pub mod rename;
pub mod send;
pub mod typing;
