//! Data sets the binary ships: the original's seed (`compat`) and a small demo (`demo`), both a
//! [`DataSet`] loaded in one transaction into an empty database; and a generated social graph of
//! any size (`scale`), streamed with `COPY`.

pub mod compat;
pub mod demo;
pub mod scale;

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use nosebook_schema::schema::{
    chat_members, chats, comment_likes, comments, friendship_requests, messages, post_likes, posts, private_chats,
    user_sessions, users,
};
use nosebook_schema::{AsyncConnection, AsyncPgConnection, DbError};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
pub struct DataSet {
    pub users: Vec<SeedUser>,
    pub user_sessions: Vec<SeedSession>,
    pub friendship_requests: Vec<SeedFriendship>,
    pub posts: Vec<SeedPost>,
    pub post_likes: Vec<SeedPostLike>,
    pub comments: Vec<SeedComment>,
    pub comment_likes: Vec<SeedCommentLike>,
    pub chats: Vec<SeedChat>,
    pub messages: Vec<SeedMessage>,
}

#[derive(Debug, Deserialize)]
pub struct SeedUser {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub nick: String,
    #[serde(alias = "bcrypt_passhash")]
    pub passhash: String,
    pub created_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct SeedSession {
    pub session_id: Uuid,
    pub user_id: Uuid,
    /// The original's seed has none; it counts from the fixture's load time.
    #[serde(default = "compat::loaded_at")]
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct SeedFriendship {
    pub requester_id: Uuid,
    pub responder_id: Uuid,
    #[serde(default)]
    pub message: Option<String>,
    pub accepted: bool,
    pub viewed: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct SeedPost {
    pub id: Uuid,
    pub author_id: Uuid,
    pub owner_id: Uuid,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// Likes are inserted in list order, which is the order "randomFiveLikers" shows.
#[derive(Debug, Deserialize)]
pub struct SeedPostLike {
    pub post_id: Uuid,
    pub user_id: Uuid,
    #[serde(default = "compat::loaded_at")]
    pub liked_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct SeedComment {
    pub id: Uuid,
    pub author_id: Uuid,
    pub post_id: Option<Uuid>,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct SeedCommentLike {
    pub comment_id: Uuid,
    pub user_id: Uuid,
    #[serde(default = "compat::loaded_at")]
    pub liked_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
pub struct SeedChat {
    pub id: Uuid,
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
    pub member_ids: Vec<Uuid>,
}

#[derive(Debug, Deserialize)]
pub struct SeedMessage {
    pub id: Uuid,
    pub chat_id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    pub reply_to: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already has users; seed a freshly migrated database")]
    NotEmpty,
    #[error("the data set is malformed: {0}")]
    Malformed(String),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for SeedError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e.into())
    }
}

/// What was loaded, for the command's output.
#[derive(Debug)]
pub struct Report {
    users: usize,
    posts: usize,
    comments: usize,
    chats: usize,
    messages: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} users, {} posts, {} comments, {} chats, {} messages",
            self.users, self.posts, self.comments, self.chats, self.messages
        )
    }
}

pub async fn is_empty(conn: &mut AsyncPgConnection) -> Result<bool, DbError> {
    let any: Option<Uuid> = users::table.select(users::id).first(conn).await.optional()?;
    Ok(any.is_none())
}

/// Loads the whole set in one transaction: all of it or nothing.
pub async fn load(conn: &mut AsyncPgConnection, set: &DataSet) -> Result<Report, SeedError> {
    conn.transaction(async |conn| {
        if !is_empty(conn).await? {
            return Err(SeedError::NotEmpty);
        }
        insert_all(conn, set).await?;
        Ok(Report {
            users: set.users.len(),
            posts: set.posts.len(),
            comments: set.comments.len(),
            chats: set.chats.len(),
            messages: set.messages.len(),
        })
    })
    .await
}

async fn insert_all(conn: &mut AsyncPgConnection, set: &DataSet) -> Result<(), SeedError> {
    let rows: Vec<_> = set
        .users
        .iter()
        .map(|u| {
            (
                users::id.eq(u.id),
                users::first_name.eq(&u.first_name),
                users::last_name.eq(&u.last_name),
                users::nick.eq(&u.nick),
                users::passhash.eq(&u.passhash),
                users::created_at.eq(u.created_at),
                users::last_activity_at.eq(u.last_activity_at),
            )
        })
        .collect();
    diesel::insert_into(users::table).values(rows).execute(conn).await?;

    let rows: Vec<_> = set
        .user_sessions
        .iter()
        .map(|s| {
            (
                user_sessions::session_id.eq(s.session_id),
                user_sessions::user_id.eq(s.user_id),
                user_sessions::created_at.eq(s.created_at),
                user_sessions::expires_at.eq(s.expires_at),
            )
        })
        .collect();
    diesel::insert_into(user_sessions::table).values(rows).execute(conn).await?;

    let rows: Vec<_> = set
        .friendship_requests
        .iter()
        .map(|r| {
            (
                friendship_requests::requester_id.eq(r.requester_id),
                friendship_requests::responder_id.eq(r.responder_id),
                friendship_requests::message.eq(r.message.clone().unwrap_or_default()),
                friendship_requests::accepted.eq(r.accepted),
                friendship_requests::viewed.eq(r.viewed),
                friendship_requests::created_at.eq(r.created_at),
            )
        })
        .collect();
    diesel::insert_into(friendship_requests::table).values(rows).execute(conn).await?;

    let rows: Vec<_> = set
        .posts
        .iter()
        .map(|p| {
            (
                posts::id.eq(p.id),
                posts::author_id.eq(p.author_id),
                posts::owner_id.eq(p.owner_id),
                posts::message.eq(&p.message),
                posts::created_at.eq(p.created_at),
            )
        })
        .collect();
    diesel::insert_into(posts::table).values(rows).execute(conn).await?;

    let rows: Vec<_> = set
        .post_likes
        .iter()
        .map(|l| {
            (post_likes::post_id.eq(l.post_id), post_likes::user_id.eq(l.user_id), post_likes::liked_at.eq(l.liked_at))
        })
        .collect();
    diesel::insert_into(post_likes::table).values(rows).execute(conn).await?;

    let rows: Vec<_> = set
        .comments
        .iter()
        .map(|c| {
            (
                comments::id.eq(c.id),
                comments::post_id.eq(c.post_id),
                comments::author_id.eq(c.author_id),
                comments::message.eq(&c.message),
                comments::created_at.eq(c.created_at),
            )
        })
        .collect();
    diesel::insert_into(comments::table).values(rows).execute(conn).await?;

    let rows: Vec<_> = set
        .comment_likes
        .iter()
        .map(|l| {
            (
                comment_likes::comment_id.eq(l.comment_id),
                comment_likes::user_id.eq(l.user_id),
                comment_likes::liked_at.eq(l.liked_at),
            )
        })
        .collect();
    diesel::insert_into(comment_likes::table).values(rows).execute(conn).await?;

    for chat in &set.chats {
        insert_chat(conn, chat).await?;
    }

    let rows: Vec<_> = set
        .messages
        .iter()
        .map(|m| {
            (
                messages::id.eq(m.id),
                messages::chat_id.eq(m.chat_id),
                messages::author_id.eq(m.author_id),
                messages::text.eq(&m.text),
                messages::reply_to.eq(m.reply_to),
                messages::created_at.eq(m.created_at),
            )
        })
        .collect();
    diesel::insert_into(messages::table).values(rows).execute(conn).await?;
    // Chat lists sort by each chat's newest message.
    diesel::sql_query(
        "UPDATE chats c SET last_message_at = m.created_at, last_message_id = m.id \
         FROM (SELECT DISTINCT ON (chat_id) chat_id, id, created_at FROM messages \
               ORDER BY chat_id, created_at DESC, id DESC) m WHERE m.chat_id = c.id",
    )
    .execute(conn)
    .await?;
    Ok(())
}

async fn insert_chat(conn: &mut AsyncPgConnection, chat: &SeedChat) -> Result<(), SeedError> {
    diesel::insert_into(chats::table)
        .values((
            chats::id.eq(chat.id),
            chats::kind.eq(&chat.kind),
            chats::title.eq(&chat.title),
            chats::created_at.eq(chat.created_at),
        ))
        .execute(conn)
        .await?;
    let members: Vec<_> = chat
        .member_ids
        .iter()
        .map(|user| {
            (
                chat_members::chat_id.eq(chat.id),
                chat_members::user_id.eq(*user),
                chat_members::joined_at.eq(chat.created_at),
            )
        })
        .collect();
    diesel::insert_into(chat_members::table).values(members).execute(conn).await?;
    if chat.kind == "private" {
        let [a, b] = chat.member_ids.as_slice() else {
            return Err(SeedError::Malformed(format!("private chat {} needs exactly two members", chat.id)));
        };
        diesel::insert_into(private_chats::table)
            .values((
                private_chats::chat_id.eq(chat.id),
                private_chats::user_low.eq((*a).min(*b)),
                private_chats::user_high.eq((*a).max(*b)),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}
