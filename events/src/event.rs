//! The events people receive on their sockets (docs/API.md §6.3) and how they are queued: as rows
//! of the outbox, in the transaction of the change that causes them. The notifier delivers them.

use nosebook_schema::ids::UserId;
use nosebook_schema::{AsyncPgConnection, DbError};
use nosebook_telemetry::trace_context;
use serde::Serialize;
use uuid::Uuid;

use crate::Control;
use crate::wire::{Chat, FriendRequest, Message, User, WireTime};

/// Declares [`Event`] and [`EventKind`] from one list, so that each kind's name — the frame's
/// `type`, the metric's label — is spelled once: serde's tag and [`EventKind::name`] both read it
/// from here.
macro_rules! events {
    ($($(#[$doc:meta])* $variant:ident($payload:ty) = $name:literal,)*) => {
        /// One WebSocket text frame: `{"type": …, "payload": …}`.
        #[derive(Debug, Clone, Serialize)]
        #[serde(tag = "type", content = "payload")]
        pub enum Event {
            $($(#[$doc])* #[serde(rename = $name)] $variant($payload),)*
        }

        /// What an [`Event`] is, without its payload.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventKind {
            $($variant,)*
        }

        impl EventKind {
            /// The `type` of its frames.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }

        impl Event {
            /// What it is.
            pub const fn event_kind(&self) -> EventKind {
                match self {
                    $(Self::$variant(_) => EventKind::$variant,)*
                }
            }
        }
    };
}

events! {
    /// To every member of the chat, the sender included.
    NewMessage(Message) = "new_message",
    /// To the post's author, when someone else likes it.
    PostLiked(Liked) = "post_liked",
    /// To the comment's author, when someone else likes it.
    CommentLiked(Liked) = "comment_liked",
    /// To the responder.
    FriendRequest(RequestSent) = "friend_request",
    /// To the requester.
    FriendRequestAccepted(RequestAccepted) = "friend_request_accepted",
    /// To the ex-friend of the one who ended the friendship: the row as it now is (the ex-friend
    /// a pending request to them).
    FriendRemoved(FriendRequest) = "friend_removed",
    /// To the responder of a request its requester took back: the row as it was.
    FriendRequestCancelled(FriendRequest) = "friend_request_cancelled",
    /// To a wall's owner, when someone else writes on it.
    PostPublished(PostPublished) = "post_published",
    /// To a post's author and its wall's owner, when someone else comments on it.
    CommentPublished(CommentPublished) = "comment_published",
    /// To the author's friends who read their feed (docs/API.md §5.8), once the post is in it.
    FeedPost(FeedPost) = "feed_post",
    /// To the members of a group when it is created, renamed or its members change.
    ChatUpdated(Box<Chat>) = "chat_updated",
    /// To the connected friends of a user who came online or went offline.
    Presence(PresenceChange) = "presence",
    /// To every member of the chat: its author changed the text.
    MessageUpdated(Message) = "message_updated",
    /// To every member of the chat: its author removed it.
    MessageRemoved(MessageRemoved) = "message_removed",
    /// To every member of the chat (the reader's other sockets too): a member read it up to a
    /// message.
    MessagesRead(MessagesRead) = "messages_read",
    /// To the other members of the chat: someone is typing in it. Not stored; clients show it
    /// for a few seconds unless it comes again.
    Typing(Typing) = "typing",
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
#[serde(rename_all = "camelCase")]
pub struct PostPublished {
    pub id: Uuid,
    /// Whose wall it is on.
    pub owner_id: Uuid,
    pub message: String,
    pub author: User,
}

/// A post just copied into the recipient's feed: enough to show that it is there and to fetch it
/// (`GET /feed?prev=`), not the post itself (its likes and comments are the reader's to ask for).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedPost {
    pub id: Uuid,
    pub author_id: Uuid,
    /// Whose wall it is on.
    pub owner_id: Uuid,
    pub created_at: WireTime,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentPublished {
    pub id: Uuid,
    pub post_id: Uuid,
    pub message: String,
    pub author: User,
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

/// The kinds [`Event::resumable_only`] keeps off sockets of the original protocol.
const RESUMABLE_ONLY: [EventKind; 5] = [
    EventKind::FriendRemoved,
    EventKind::FriendRequestCancelled,
    EventKind::PostPublished,
    EventKind::CommentPublished,
    EventKind::FeedPost,
];

/// Whether a frame as [`Event::frame`] writes it is of a kind only resumable sockets get: the
/// hub, which holds frames and not events, reads the kind off the frame's start.
pub fn frame_is_resumable_only(frame: &str) -> bool {
    frame
        .strip_prefix(r#"{"type":""#)
        .and_then(|rest| rest.split_once('"'))
        .is_some_and(|(kind, _)| RESUMABLE_ONLY.iter().any(|only| only.name() == kind))
}

impl Event {
    /// The `type` of the frame.
    pub fn kind(&self) -> &'static str {
        self.event_kind().name()
    }

    /// Whether only sockets that speak the resumable protocol (opened with `?cursor`, docs/API.md
    /// §6.4) get it. A socket of the original protocol must see exactly the frames the original
    /// sent: its clients read the next frame and expect it to be the one they know (a post on a
    /// wall, then `post_liked`), so kinds that appeared later stay off it.
    pub fn resumable_only(&self) -> bool {
        RESUMABLE_ONLY.contains(&self.event_kind())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The hub reads off the frame what the event says of itself.
    #[test]
    fn a_frame_tells_whether_only_resumable_sockets_get_it() {
        let removed = Event::FriendRemoved(FriendRequest {
            requester_id: Uuid::nil(),
            responder_id: Uuid::nil(),
            message: r#"{"type":"new_message"}"#.into(),
            accepted: false,
            viewed: true,
            created_at: WireTime(chrono::DateTime::UNIX_EPOCH),
        });
        let gone = Event::MessageRemoved(MessageRemoved { chat_id: Uuid::nil(), message_id: Uuid::nil() });
        for event in [removed, gone] {
            assert_eq!(frame_is_resumable_only(&event.frame()), event.resumable_only(), "{}", event.kind());
        }
        assert!(!frame_is_resumable_only("{}"));
    }
}
