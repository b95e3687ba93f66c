use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::{ChatId, MessageId, UserId};
use crate::models::MessageRow;
use crate::paging::{Cursor, Page};
use crate::queries::{Side, keyset};
use crate::schema::messages;

pub async fn insert(
    conn: &mut AsyncPgConnection,
    chat: ChatId,
    author: UserId,
    text: &str,
    reply_to: Option<MessageId>,
    at: DateTime<Utc>,
) -> QueryResult<MessageRow> {
    diesel::insert_into(messages::table)
        .values((
            messages::id.eq(MessageId::new_random()),
            messages::chat_id.eq(chat),
            messages::author_id.eq(author),
            messages::text.eq(text),
            messages::reply_to.eq(reply_to),
            messages::created_at.eq(at),
        ))
        .returning(MessageRow::as_returning())
        .get_result(conn)
        .await
}

/// Whether `message` is a message of `chat` (a reply must quote its own chat).
pub async fn is_in_chat(conn: &mut AsyncPgConnection, message: MessageId, chat: ChatId) -> QueryResult<bool> {
    let found: Option<MessageId> = messages::table
        .find(message)
        .filter(messages::chat_id.eq(chat))
        .select(messages::id)
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[MessageId]) -> QueryResult<Vec<MessageRow>> {
    messages::table.filter(messages::id.eq_any(ids)).select(MessageRow::as_select()).load(conn).await
}

/// Where a page of messages starts. Messages are listed newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Newest,
    /// Older than the cursor (the original's `next`).
    Older(Cursor),
    /// The page of newer messages just before the cursor in the list (`prev`).
    Newer(Cursor),
}

fn cursor_of(m: &MessageRow) -> Cursor {
    Cursor::new(m.id.0, m.created_at)
}

/// Messages of a chat, newest first; `next` pages to older ones, `prev` to newer ones.
pub async fn page(
    conn: &mut AsyncPgConnection,
    chat: ChatId,
    position: Position,
    limit: usize,
) -> QueryResult<Page<MessageRow>> {
    let of_chat = || messages::table.filter(messages::chat_id.eq(chat)).into_boxed();
    let total_count = of_chat().select(count_star()).get_result::<i64>(conn).await?;
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    match position {
        Position::Newest | Position::Older(_) => {
            let mut query = of_chat().order((messages::created_at.desc(), messages::id.desc())).limit(fetch);
            if let Position::Older(cursor) = position {
                query = query.filter(keyset("messages.created_at", "messages.id", Side::Below, cursor));
            }
            let rows = query.select(MessageRow::as_select()).load(conn).await?;
            Ok(Page::from_overfetch(rows, limit, total_count, cursor_of))
        }
        Position::Newer(cursor) => {
            let mut rows: Vec<MessageRow> = of_chat()
                .filter(keyset("messages.created_at", "messages.id", Side::Above, cursor))
                .order((messages::created_at.asc(), messages::id.asc()))
                .limit(fetch)
                .select(MessageRow::as_select())
                .load(conn)
                .await?;
            let more_newer = rows.len() > limit;
            rows.truncate(limit);
            rows.reverse();
            let prev = <[MessageRow]>::first(&rows).filter(|_| more_newer).map(cursor_of);
            // Older messages exist at least where the cursor points.
            let next = <[MessageRow]>::last(&rows).map(cursor_of);
            Ok(Page { rows, total_count, next, prev })
        }
    }
}
