//! The realtime vocabulary that sits below the actors and the notifier, so that both speak it
//! without depending on each other:
//!
//! - [`queue`]: the one way an event enters the outbox — in the caller's transaction, counted,
//!   with the request's trace context;
//! - [`Control`]: messages for every node rather than for a person, one type both to write and
//!   to read (a renamed field cannot compile on one side and fail on the other at run time);
//! - [`SocketsChanged`]: what the hub tells the presence tracker.
//!
//! - [`Event`]: the frames people receive, built from [`wire`] types — the objects as the API
//!   shows them — so the actors that write a change build its event themselves.

pub mod event;
pub mod wire;

pub use event::{
    CommentPublished, Event, EventKind, FeedPost, Liked, MessageRemoved, MessagesRead, PostPublished, PresenceChange,
    RequestAccepted, RequestSent, Typing, frame_is_resumable_only, queue_control,
};

use actix::Message;
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::outbox;
use nosebook_schema::{AsyncPgConnection, DbError};
use nosebook_telemetry::metrics;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The recipient a control message is queued for: nobody, so every node takes it.
pub const CONTROL_RECIPIENT: UserId = UserId(Uuid::nil());

/// Queues the frame `frame` (an event of type `kind`) for `recipients`. Call it inside the
/// transaction of the change that causes the event.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    recipients: &[UserId],
    kind: &'static str,
    frame: &str,
    trace: Option<&str>,
) -> Result<(), DbError> {
    if recipients.is_empty() {
        return Ok(());
    }
    outbox::push(conn, recipients, frame, trace).await?;
    metrics::written(kind);
    Ok(())
}

/// Messages for every node: queued in the outbox for [`CONTROL_RECIPIENT`], delivered to each
/// node's session directory.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[rtype(result = "()")]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum Control {
    /// A session was logged out: every node forgets its cached copy.
    #[serde(rename_all = "camelCase")]
    SessionEnded { session_id: Uuid },
    /// A user's record changed (their avatar): every node reloads its cached copies.
    #[serde(rename_all = "camelCase")]
    UserChanged { user_id: Uuid },
}

impl Control {
    /// The frame that travels: `{"type": …, "payload": …}`.
    pub fn frame(&self) -> String {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A frame read back; `None` for one this build does not know.
    pub fn parse(frame: &str) -> Option<Self> {
        serde_json::from_str(frame).ok()
    }

    /// Queues the message for every node, inside the caller's transaction.
    pub async fn queue(&self, conn: &mut AsyncPgConnection, trace: Option<&str>) -> Result<(), DbError> {
        queue(conn, &[CONTROL_RECIPIENT], "control", &self.frame(), trace).await
    }
}

/// A user's first socket on this node opened (`connected`), or their last one closed.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct SocketsChanged {
    pub user: UserId,
    pub connected: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_frames_read_back_as_written() {
        for control in
            [Control::SessionEnded { session_id: Uuid::new_v4() }, Control::UserChanged { user_id: Uuid::new_v4() }]
        {
            assert_eq!(Control::parse(&control.frame()), Some(control));
        }
        let id = Uuid::nil();
        assert_eq!(
            Control::SessionEnded { session_id: id }.frame(),
            r#"{"type":"session_ended","payload":{"sessionId":"00000000-0000-0000-0000-000000000000"}}"#
        );
        assert_eq!(Control::parse(r#"{"type":"something_new","payload":{}}"#), None);
    }
}
