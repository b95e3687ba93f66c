//! The events people receive on their sockets (docs/API.md §6.3) and how they are queued: as rows
//! of the outbox, in the transaction of the change that causes them. The notifier delivers them.

use nosebook_schema::ids::UserId;
use nosebook_schema::{AsyncPgConnection, DbError};
use nosebook_telemetry::trace_context;
use serde::Serialize;
use uuid::Uuid;

use crate::Control;
use crate::wire::{Chat, FriendRequest, Message, User, WireTime};

/// One WebSocket text frame: `{"type": …, "payload": …}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum Event {
    /// To every member of the chat, the sender included.
    NewMessage(Message),
    /// To the post's author, when someone else likes it.
    PostLiked(Liked),
    /// To the comment's author, when someone else likes it.
    CommentLiked(Liked),
    /// To the responder.
    FriendRequest(RequestSent),
    /// To the requester.
    FriendRequestAccepted(RequestAccepted),
    /// To the members of a group when it is created, renamed or its members change.
    ChatUpdated(Box<Chat>),
    /// To the connected friends of a user who came online or went offline.
    Presence(PresenceChange),
    /// To every member of the chat: its author changed the text.
    MessageUpdated(Message),
    /// To every member of the chat: its author removed it.
    MessageRemoved(MessageRemoved),
    /// To every member of the chat (the reader's other sockets too): a member read it up to a
    /// message.
    MessagesRead(MessagesRead),
    /// To the other members of the chat: someone is typing in it. Not stored; clients show it
    /// for a few seconds unless it comes again.
    Typing(Typing),
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    pub chat_id: Uuid,
    pub user: User,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagesRead {
    pub chat_id: Uuid,
    pub user_id: Uuid,
    /// The newest message there was when they read.
    pub up_to: Uuid,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRemoved {
    pub chat_id: Uuid,
    pub message_id: Uuid,
}

#[derive(Debug, Clone, Serialize)]
pub struct Liked {
    /// The post's or comment's id.
    pub id: Uuid,
    /// Its text.
    pub message: String,
    pub liker: User,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestSent {
    #[serde(flatten)]
    pub request: FriendRequest,
    pub requester: User,
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestAccepted {
    #[serde(flatten)]
    pub request: FriendRequest,
    pub responder: User,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChange {
    pub user_id: Uuid,
    pub online: bool,
    pub last_online_at: WireTime,
}

impl Event {
    /// The `type` of the frame.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NewMessage(_) => "new_message",
            Self::PostLiked(_) => "post_liked",
            Self::CommentLiked(_) => "comment_liked",
            Self::FriendRequest(_) => "friend_request",
            Self::FriendRequestAccepted(_) => "friend_request_accepted",
            Self::ChatUpdated(_) => "chat_updated",
            Self::Presence(_) => "presence",
            Self::MessageUpdated(_) => "message_updated",
            Self::MessageRemoved(_) => "message_removed",
            Self::MessagesRead(_) => "messages_read",
            Self::Typing(_) => "typing",
        }
    }

    /// The frame, serialized once for every recipient.
    pub fn frame(&self) -> String {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Queues the event for `recipients`, in the trace of the current span. Call it inside the
    /// transaction of the change.
    pub async fn queue(&self, conn: &mut AsyncPgConnection, recipients: &[UserId]) -> Result<(), DbError> {
        self.queue_traced(conn, recipients, trace_context::current().as_deref()).await
    }

    /// Queues the event for `recipients`, joining the trace `trace` (a W3C `traceparent`).
    pub async fn queue_traced(
        &self,
        conn: &mut AsyncPgConnection,
        recipients: &[UserId],
        trace: Option<&str>,
    ) -> Result<(), DbError> {
        if recipients.is_empty() {
            return Ok(());
        }
        crate::queue(conn, recipients, self.kind(), &self.frame(), trace).await
    }
}

/// Messages for every node rather than for a person ([`Control`]), queued with the
/// trace context of the request that causes them.
pub async fn queue_control(conn: &mut AsyncPgConnection, control: Control) -> Result<(), DbError> {
    control.queue(conn, trace_context::current().as_deref()).await
}
