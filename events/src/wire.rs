//! Objects as they appear on the wire (docs/API.md §2). Built from rows here and nowhere else, so a
//! field name or a time format is decided once.

use chrono::{DateTime, Utc};
use nosebook_schema::models::{SessionRow, UserRow};
use nosebook_schema::time::{format_rfc3339, is_online};
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

/// A timestamp: RFC 3339, UTC, `Z`, fractional seconds only when non-zero (docs/API.md §1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireTime(pub DateTime<Utc>);

impl Serialize for WireTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(self.0))
    }
}

impl PartialSchema for WireTime {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}
impl ToSchema for WireTime {}

/// A user as others see them (docs/API.md §2.1).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub nick: String,
    pub last_online_at: WireTime,
    pub online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<Avatar>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Avatar {
    pub url: String,
    pub updated_at: WireTime,
}

impl User {
    pub fn new(row: UserRow, now: DateTime<Utc>) -> Self {
        let avatar = match (row.avatar_url.is_empty(), row.avatar_updated_at) {
            (false, Some(at)) => Some(Avatar { url: row.avatar_url, updated_at: WireTime(at) }),
            _ => None,
        };
        Self {
            id: row.id.0,
            online: is_online(row.last_activity_at, now),
            last_online_at: WireTime(row.last_activity_at),
            first_name: row.first_name,
            last_name: row.last_name,
            nick: row.nick,
            avatar,
        }
    }

    /// A user acting at `now` (the caller of a request, a message's author), as others see
    /// them: active at that moment, which is what asking the presence tracker would answer.
    pub fn active_at(mut row: UserRow, now: DateTime<Utc>) -> Self {
        row.last_activity_at = row.last_activity_at.max(now);
        Self::new(row, now)
    }
}

/// The caller's own account record (docs/API.md §2.2). Never carries the password hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfUser {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub nick: String,
    pub created_at: WireTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_updated_at: Option<WireTime>,
    pub last_activity_at: WireTime,
}

impl From<UserRow> for SelfUser {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id.0,
            first_name: row.first_name,
            last_name: row.last_name,
            nick: row.nick,
            created_at: WireTime(row.created_at),
            avatar_url: Some(row.avatar_url).filter(|url| !url.is_empty()),
            avatar_updated_at: row.avatar_updated_at.map(WireTime),
            last_activity_at: WireTime(row.last_activity_at),
        }
    }
}

/// docs/API.md §2.3.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub created_at: WireTime,
    pub expires_at: WireTime,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Self {
            session_id: row.session_id.0,
            user_id: row.user_id.0,
            created_at: WireTime(row.created_at),
            expires_at: WireTime(row.expires_at),
        }
    }
}

/// `{user, session}`: what register and login answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignedInUser {
    pub user: SelfUser,
    pub session: Session,
}

/// One page of a list (docs/API.md §2.12): `next`/`prev` are omitted when absent, never null.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageOf<T> {
    pub data: Vec<T>,
    pub total_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

impl<T> PageOf<T> {
    pub fn empty() -> Self {
        Self { data: Vec::new(), total_count: 0, next: None, prev: None }
    }
}

/// docs/API.md §2.4.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Likes {
    pub count: i64,
    /// The first five likers, in like order (the name is the original's).
    pub random_five_likers: Vec<User>,
    /// The caller likes it.
    pub liked: bool,
}

/// docs/API.md §2.5, computed for the caller.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Permissions {
    pub remove: bool,
    pub update: bool,
}

/// docs/API.md §2.6.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    pub id: Uuid,
    pub author: User,
    pub message: String,
    pub likes: Likes,
    pub permissions: Permissions,
    pub created_at: WireTime,
}

/// docs/API.md §2.7.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Post {
    pub id: Uuid,
    pub author: User,
    /// Whose wall the post is on.
    pub owner: User,
    pub message: String,
    pub likes: Likes,
    /// The first page of comments (the five oldest), exactly as `GET /comments?postId=` answers.
    pub recent_comments: PageOf<Comment>,
    pub permissions: Permissions,
    pub created_at: WireTime,
}

/// `{"id": …}`: what publishing and removing answer.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
}

/// docs/API.md §2.10.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FriendRequest {
    pub requester_id: Uuid,
    pub responder_id: Uuid,
    pub message: String,
    pub accepted: bool,
    pub viewed: bool,
    pub created_at: WireTime,
}

impl From<nosebook_schema::models::FriendRequestRow> for FriendRequest {
    fn from(row: nosebook_schema::models::FriendRequestRow) -> Self {
        Self {
            requester_id: row.requester_id.0,
            responder_id: row.responder_id.0,
            message: row.message,
            accepted: row.accepted,
            viewed: row.viewed,
            created_at: WireTime(row.created_at),
        }
    }
}

/// Seen from the listed user: `incoming` means `user` sent the request.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FriendshipType {
    Incoming,
    /// The original's spelling, part of the wire format.
    Outcoming,
}

/// docs/API.md §2.11.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FriendshipItem {
    #[serde(rename = "type")]
    pub kind: FriendshipType,
    pub accepted: bool,
    pub user: User,
}

/// docs/API.md §5.6.6; each list is omitted when empty.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Relations {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub friend_ids: Vec<Uuid>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_responder_ids: Vec<Uuid>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_requester_ids: Vec<Uuid>,
}

/// docs/API.md §2.8.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: Uuid,
    pub author: User,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Uuid>,
    pub chat_id: Uuid,
    pub created_at: WireTime,
    /// When its author last edited it (Added; absent if never).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<WireTime>,
}

impl Message {
    pub fn new(row: &nosebook_schema::models::MessageRow, author: User) -> Self {
        Self {
            id: row.id.0,
            author,
            text: row.text.clone(),
            reply_to: row.reply_to.map(|r| r.0),
            chat_id: row.chat_id.0,
            created_at: WireTime(row.created_at),
            edited_at: row.edited_at.map(WireTime),
        }
    }
}

/// How far a member has read a chat (Added): the newest message there was when they last read
/// it; `upTo` is null when they never have.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadMark {
    pub user_id: Uuid,
    pub up_to: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatType {
    Private,
    Group,
}

/// docs/API.md §2.9, extended: `type`; private chats keep `interlocutor`, groups have `title` and
/// `members`. `lastMessage` is omitted only for a group nobody has written in yet.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: ChatType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interlocutor: Option<User>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<User>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message: Option<Message>,
    pub created_at: WireTime,
}
