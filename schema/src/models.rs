//! Rows as they are read from and written to the tables.
//!
//! `UserRow` deliberately has no password hash: the hash is read only by the login query
//! ([`crate::queries::users::credentials_by_nick`]), so no code path can serialize it by mistake.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::ids::{ChatId, CommentId, MessageId, PostId, SessionId, UserId};
use crate::schema::{user_sessions, users};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    pub id: UserId,
    pub first_name: String,
    pub last_name: String,
    pub nick: String,
    pub created_at: DateTime<Utc>,
    pub avatar_url: String,
    pub avatar_updated_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: UserId,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub nick: &'a str,
    pub passhash: &'a str,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What login needs to check a password: never leaves the accounts service.
#[derive(Debug, Clone, Queryable)]
pub struct Credentials {
    pub user_id: UserId,
    pub passhash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = crate::schema::posts, check_for_backend(diesel::pg::Pg))]
pub struct PostRow {
    pub id: PostId,
    pub author_id: UserId,
    pub owner_id: UserId,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = crate::schema::comments, check_for_backend(diesel::pg::Pg))]
pub struct CommentRow {
    pub id: CommentId,
    pub post_id: Option<PostId>,
    pub author_id: UserId,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = crate::schema::friendship_requests, check_for_backend(diesel::pg::Pg))]
pub struct FriendRequestRow {
    pub requester_id: UserId,
    pub responder_id: UserId,
    pub message: String,
    pub accepted: bool,
    pub viewed: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::schema::chats, check_for_backend(diesel::pg::Pg))]
pub struct ChatRow {
    pub id: ChatId,
    /// `private` or `group`.
    pub kind: String,
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_message_id: Option<MessageId>,
}

impl ChatRow {
    pub fn is_group(&self) -> bool {
        self.kind == "group"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::schema::messages, check_for_backend(diesel::pg::Pg))]
pub struct MessageRow {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub author_id: UserId,
    pub text: String,
    pub reply_to: Option<MessageId>,
    pub created_at: DateTime<Utc>,
    /// When its author last changed the text.
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::schema::outbox, check_for_backend(diesel::pg::Pg))]
pub struct OutboxRow {
    pub id: i64,
    /// Everyone the event is for (at least one).
    pub recipients: Vec<UserId>,
    pub frame: String,
    /// W3C `traceparent` of the request that wrote the event.
    pub trace_context: Option<String>,
}
