use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::{ChatId, MessageId, UserId};
use crate::models::MessageRow;
use crate::paging::{Cursor, Page};
use crate::queries::prepared::prepared;
use crate::queries::{Conn, Side, keyset, outbox};
use crate::schema::{chat_counts, messages};

/// Writes a batch of sends in one statement: the messages, in the order given (which is the
/// order of their `seq`), the newest-message pointer of each chat once, and one outbox row per
/// event, claimed by the writer that publishes them from memory ([`outbox::CLAIM`]). Answers
/// the events' outbox ids, in the order of `events`. Call it with the chats locked
/// ([`super::chats::lock`]).
pub async fn write_batch<C: Conn>(
    conn: &mut C,
    messages: &[MessageRow],
    events: &[outbox::Pending],
) -> QueryResult<Vec<i64>> {
    // Each chat's newest message of the batch: the last one of that chat in `messages`.
    let mut newest: Vec<&MessageRow> = Vec::new();
    for m in messages.iter().rev() {
        if !newest.iter().any(|n| n.chat_id == m.chat_id) {
            newest.push(m);
        }
    }
    let recipients: Vec<String> = events.iter().map(|e| uuid_array_literal(&e.recipients)).collect();
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    // The writes share one statement: data-modifying CTEs all run, referenced or not.
    let written = prepared(format!(
        "WITH messages_written AS (
            INSERT INTO messages (id, chat_id, author_id, text, reply_to, created_at)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::timestamptz[])
        ), pointers AS (
            UPDATE chats SET last_message_id = p.message, last_message_at = p.at
            FROM unnest($7::uuid[], $8::uuid[], $9::timestamptz[]) AS p (chat, message, at)
            WHERE chats.id = p.chat
        )
        INSERT INTO outbox (recipients, frame, trace_context, claimed_until)
        SELECT e.recipients::uuid[], e.frame, e.trace, now() + interval '{}'
        FROM unnest($10::text[], $11::text[], $12::text[]) AS e (recipients, frame, trace)
        RETURNING id",
        outbox::CLAIM
    ))
    .bind::<Array<SqlUuid>, _>(messages.iter().map(|m| m.id.0).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(messages.iter().map(|m| m.chat_id.0).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(messages.iter().map(|m| m.author_id.0).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<SqlUuid>>, _>(messages.iter().map(|m| m.reply_to.map(|r| r.0)).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(messages.iter().map(|m| m.created_at).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(newest.iter().map(|m| m.chat_id.0).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(newest.iter().map(|m| m.id.0).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(newest.iter().map(|m| m.created_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(recipients)
    .bind::<Array<Text>, _>(events.iter().map(|e| e.frame.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(events.iter().map(|e| e.trace_context.as_deref()).collect::<Vec<_>>())
    .load::<Written>(conn)
    .await?;
    // Identity values are drawn row by row as the rows are inserted, in `unnest` order: sorted,
    // they are in the order of `events` whatever order RETURNING hands them back in.
    let mut ids: Vec<i64> = written.into_iter().map(|w| w.id).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// `{a,b,c}`: a uuid array as PostgreSQL reads it from text (an array of arrays of different
/// lengths cannot be a bind parameter).
fn uuid_array_literal(ids: &[UserId]) -> String {
    let mut literal = String::with_capacity(2 + ids.len() * 37);
    literal.push('{');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        literal.push_str(&id.0.to_string());
    }
    literal.push('}');
    literal
}

/// Of `ids`, the messages that exist, with their chat: whether a reply quotes its own chat.
pub async fn chats_of<C: Conn>(conn: &mut C, ids: &[MessageId]) -> QueryResult<Vec<(MessageId, ChatId)>> {
    messages::table.filter(messages::id.eq_any(ids)).select((messages::id, messages::chat_id)).load(conn).await
}

pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[MessageId]) -> QueryResult<Vec<MessageRow>> {
    messages::table.filter(messages::id.eq_any(ids)).select(MessageRow::as_select()).load(conn).await
}

/// The message `id` unless it was removed: what an edit or a removal first checks.
pub async fn find_live(conn: &mut AsyncPgConnection, id: MessageId) -> QueryResult<Option<MessageRow>> {
    messages::table
        .find(id)
        .filter(messages::removed_at.is_null())
        .select(MessageRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Sets the text of a live message (and when it was edited); answers the message as it now is,
/// `None` if it was removed meanwhile. Call it with the chat locked ([`super::chats::lock`]).
pub async fn edit(
    conn: &mut AsyncPgConnection,
    id: MessageId,
    text: &str,
    at: DateTime<Utc>,
) -> QueryResult<Option<MessageRow>> {
    diesel::update(messages::table.find(id).filter(messages::removed_at.is_null()))
        .set((messages::text.eq(text), messages::edited_at.eq(Some(at))))
        .returning(MessageRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Removes a live message; `false` if it was not live. A chat whose newest message it was points
/// at its newest live one instead (none: no last message). Call it with the chat locked.
pub async fn remove(conn: &mut AsyncPgConnection, message: &MessageRow, at: DateTime<Utc>) -> QueryResult<bool> {
    let removed = diesel::update(messages::table.find(message.id).filter(messages::removed_at.is_null()))
        .set(messages::removed_at.eq(Some(at)))
        .execute(conn)
        .await?;
    if removed == 0 {
        return Ok(false);
    }
    prepared(
        "UPDATE chats SET (last_message_id, last_message_at) = ( \
             SELECT id, created_at FROM messages WHERE chat_id = $1 AND removed_at IS NULL \
             ORDER BY seq DESC LIMIT 1) \
         WHERE id = $2 AND last_message_id = $3",
    )
    .bind::<SqlUuid, _>(message.chat_id)
    .bind::<SqlUuid, _>(message.chat_id)
    .bind::<SqlUuid, _>(message.id)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Where a page of messages starts. Messages are listed newest first.
pub use crate::paging::NewestFirst as Position;

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
    let of_chat =
        || messages::table.filter(messages::chat_id.eq(chat)).filter(messages::removed_at.is_null()).into_boxed();
    let total_count = chat_counts::table
        .find(chat.0)
        .select(chat_counts::messages)
        .get_result::<i64>(conn)
        .await
        .optional()?
        .unwrap_or(0);
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
            let rows: Vec<MessageRow> = of_chat()
                .filter(keyset("messages.created_at", "messages.id", Side::Above, cursor))
                .order((messages::created_at.asc(), messages::id.asc()))
                .limit(fetch)
                .select(MessageRow::as_select())
                .load(conn)
                .await?;
            Ok(Page::from_newer_overfetch(rows, limit, total_count, cursor_of))
        }
    }
}
