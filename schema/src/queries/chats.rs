//! Chats and their members. A pair of users has at most one private chat; groups have a title.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::ids::{ChatId, MessageId, UserId};
use crate::models::ChatRow;
use crate::paging::{Cursor, Page};
use crate::queries::prepared::prepared;
use crate::queries::{Conn, Side, keyset};
use crate::schema::{chat_members, chats, private_chats, user_counts};

pub async fn find(conn: &mut AsyncPgConnection, id: ChatId) -> QueryResult<Option<ChatRow>> {
    chats::table.find(id).select(ChatRow::as_select()).first(conn).await.optional()
}

/// A pair of people in the order the `private_chats` table keys them (lower id first): `a` writing
/// to `b` and `b` to `a` are the same pair.
pub fn ordered(a: UserId, b: UserId) -> (UserId, UserId) {
    if a <= b { (a, b) } else { (b, a) }
}

pub async fn find_private(conn: &mut AsyncPgConnection, a: UserId, b: UserId) -> QueryResult<Option<ChatId>> {
    let (low, high) = ordered(a, b);
    private_chats::table
        .filter(private_chats::user_low.eq(low))
        .filter(private_chats::user_high.eq(high))
        .select(private_chats::chat_id)
        .first(conn)
        .await
        .optional()
}

/// The private chat of two different users, created when it does not exist yet. Must run inside
/// a transaction: a transaction-scoped advisory lock on the pair makes two first messages sent
/// at once find one chat, and the unique pair constraint guards the rest.
pub async fn find_or_create_private(
    conn: &mut AsyncPgConnection,
    a: UserId,
    b: UserId,
    at: DateTime<Utc>,
) -> QueryResult<ChatId> {
    let (low, high) = ordered(a, b);
    if let Some(id) = find_private(conn, low, high).await? {
        return Ok(id);
    }
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('private-chat' || $1::text || $2::text, 0))")
        .bind::<SqlUuid, _>(low.0)
        .bind::<SqlUuid, _>(high.0)
        .execute(conn)
        .await?;
    if let Some(id) = find_private(conn, low, high).await? {
        return Ok(id);
    }
    let id = ChatId::new_random();
    diesel::insert_into(chats::table)
        .values((chats::id.eq(id), chats::kind.eq("private"), chats::created_at.eq(at)))
        .execute(conn)
        .await?;
    add_members(conn, id, &[low, high], at).await?;
    diesel::insert_into(private_chats::table)
        .values((private_chats::chat_id.eq(id), private_chats::user_low.eq(low), private_chats::user_high.eq(high)))
        .execute(conn)
        .await?;
    Ok(id)
}

pub async fn create_group(
    conn: &mut AsyncPgConnection,
    title: &str,
    members: &[UserId],
    at: DateTime<Utc>,
) -> QueryResult<ChatRow> {
    let chat: ChatRow = diesel::insert_into(chats::table)
        .values((
            chats::id.eq(ChatId::new_random()),
            chats::kind.eq("group"),
            chats::title.eq(title),
            chats::created_at.eq(at),
        ))
        .returning(ChatRow::as_returning())
        .get_result(conn)
        .await?;
    add_members(conn, chat.id, members, at).await?;
    Ok(chat)
}

/// Adds members; those already in are left as they are. Returns how many joined.
pub async fn add_members(
    conn: &mut AsyncPgConnection,
    chat: ChatId,
    users: &[UserId],
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    let rows: Vec<_> = users
        .iter()
        .map(|u| (chat_members::chat_id.eq(chat), chat_members::user_id.eq(*u), chat_members::joined_at.eq(at)))
        .collect();
    diesel::insert_into(chat_members::table).values(rows).on_conflict_do_nothing().execute(conn).await
}

pub async fn remove_member(conn: &mut AsyncPgConnection, chat: ChatId, user: UserId) -> QueryResult<bool> {
    let removed = diesel::delete(chat_members::table.find((chat, user))).execute(conn).await?;
    Ok(removed > 0)
}

pub async fn rename(conn: &mut AsyncPgConnection, chat: ChatId, title: &str) -> QueryResult<ChatRow> {
    diesel::update(chats::table.find(chat))
        .set(chats::title.eq(title))
        .returning(ChatRow::as_returning())
        .get_result(conn)
        .await
}

/// Locks the rows of `ids` that exist until the transaction ends, in id order (so that two
/// transactions locking overlapping sets never deadlock), and answers which exist. Sends take
/// this lock before they read the members and the time, and membership changes take it too: a
/// message goes to exactly the members it was sent among, and a chat's `(created_at, seq)`
/// order is its commit order, across nodes.
pub async fn lock<C: Conn>(conn: &mut C, ids: &[ChatId]) -> QueryResult<Vec<ChatId>> {
    chats::table.filter(chats::id.eq_any(ids)).order(chats::id).select(chats::id).for_no_key_update().load(conn).await
}

/// Members of several chats, each list in joining order.
pub async fn members_of<C: Conn>(conn: &mut C, chats: &[ChatId]) -> QueryResult<HashMap<ChatId, Vec<UserId>>> {
    let rows: Vec<(ChatId, UserId)> = chat_members::table
        .filter(chat_members::chat_id.eq_any(chats))
        .order((chat_members::chat_id, chat_members::joined_at, chat_members::user_id))
        .select((chat_members::chat_id, chat_members::user_id))
        .load(conn)
        .await?;
    let mut out: HashMap<ChatId, Vec<UserId>> = HashMap::new();
    for (chat, user) in rows {
        out.entry(chat).or_default().push(user);
    }
    Ok(out)
}

/// Members of one chat, in joining order (none for an unknown chat).
pub async fn members<C: Conn>(conn: &mut C, chat: ChatId) -> QueryResult<Vec<UserId>> {
    Ok(members_of(conn, &[chat]).await?.remove(&chat).unwrap_or_default())
}

/// Messages from others that `user` has not read, for those of `chats` that have any.
pub async fn unread_counts(
    conn: &mut AsyncPgConnection,
    user: UserId,
    chats: &[ChatId],
) -> QueryResult<HashMap<ChatId, i64>> {
    use crate::schema::messages;
    let rows: Vec<(ChatId, i64)> = chat_members::table
        .inner_join(messages::table.on(messages::chat_id.eq(chat_members::chat_id)))
        .filter(chat_members::user_id.eq(user))
        .filter(chat_members::chat_id.eq_any(chats))
        .filter(messages::seq.gt(chat_members::last_read_seq))
        .filter(messages::author_id.ne(user))
        .filter(messages::removed_at.is_null())
        .group_by(chat_members::chat_id)
        .select((chat_members::chat_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// How many of `user`'s chats hold messages from others they have not read.
pub async fn chats_with_unread(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<i64> {
    use crate::schema::messages;
    chat_members::table
        .filter(chat_members::user_id.eq(user))
        .filter(diesel::dsl::exists(
            messages::table
                .filter(messages::chat_id.eq(chat_members::chat_id))
                .filter(messages::seq.gt(chat_members::last_read_seq))
                .filter(messages::author_id.ne(user))
                .filter(messages::removed_at.is_null()),
        ))
        .count()
        .get_result(conn)
        .await
}

/// `user` has read everything in `chat` so far: answers the newest live message when that moved
/// their read mark. Writes nothing (and so waits for no WAL flush) when it did not.
pub async fn mark_read(conn: &mut AsyncPgConnection, chat: ChatId, user: UserId) -> QueryResult<Option<MessageId>> {
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = SqlUuid)]
        up_to: Uuid,
    }
    let read: Option<Read> = prepared(
        "WITH newest AS ( \
             SELECT id, seq FROM messages WHERE chat_id = $1 AND removed_at IS NULL ORDER BY seq DESC LIMIT 1) \
         UPDATE chat_members SET last_read_seq = newest.seq FROM newest \
         WHERE chat_id = $2 AND user_id = $3 AND last_read_seq < newest.seq \
         RETURNING newest.id AS up_to",
    )
    .bind::<SqlUuid, _>(chat)
    .bind::<SqlUuid, _>(chat)
    .bind::<SqlUuid, _>(user)
    .get_result(conn)
    .await
    .optional()?;
    Ok(read.map(|r| MessageId(r.up_to)))
}

/// How far each member of `chat` has read, in joining order: the newest message there was when
/// they last read it (`None`: they never have, or the chat had none).
pub async fn reads(conn: &mut AsyncPgConnection, chat: ChatId) -> QueryResult<Vec<(UserId, Option<MessageId>)>> {
    #[derive(QueryableByName)]
    struct Read {
        #[diesel(sql_type = SqlUuid)]
        user_id: Uuid,
        #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
        up_to: Option<Uuid>,
    }
    let rows: Vec<Read> = prepared(
        "SELECT cm.user_id, m.id AS up_to FROM chat_members cm \
         LEFT JOIN messages m ON m.chat_id = cm.chat_id AND m.seq = cm.last_read_seq \
         WHERE cm.chat_id = $1 ORDER BY cm.joined_at, cm.user_id",
    )
    .bind::<SqlUuid, _>(chat)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (UserId(r.user_id), r.up_to.map(MessageId))).collect())
}

/// Of `messages` (of `chat`), how many members other than `viewer` have read each: those nobody
/// else has read are absent, and so is everything when `viewer` is not a member — the statement
/// checks that itself.
pub async fn seen_by(
    conn: &mut AsyncPgConnection,
    chat: ChatId,
    viewer: UserId,
    messages: &[MessageId],
) -> QueryResult<HashMap<MessageId, i64>> {
    #[derive(QueryableByName)]
    struct Seen {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seen: i64,
    }
    let ids: Vec<Uuid> = messages.iter().map(|m| m.0).collect();
    let rows: Vec<Seen> = prepared(
        "SELECT m.id, count(*) AS seen FROM messages m \
         JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id <> $1 AND cm.last_read_seq >= m.seq \
         WHERE m.chat_id = $2 AND m.id = ANY($3) \
           AND EXISTS (SELECT 1 FROM chat_members WHERE chat_id = $4 AND user_id = $5) \
         GROUP BY m.id",
    )
    .bind::<SqlUuid, _>(viewer)
    .bind::<SqlUuid, _>(chat)
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
    .bind::<SqlUuid, _>(chat)
    .bind::<SqlUuid, _>(viewer)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (MessageId(r.id), r.seen)).collect())
}

pub async fn is_member(conn: &mut AsyncPgConnection, chat: ChatId, user: UserId) -> QueryResult<bool> {
    let found: Option<UserId> =
        chat_members::table.find((chat, user)).select(chat_members::user_id).first(conn).await.optional()?;
    Ok(found.is_some())
}

/// What chat lists sort by: the newest message, or for a group nobody wrote in yet, its creation.
const ACTIVITY: &str = "COALESCE(chats.last_message_at, chats.created_at)";

/// The caller's chats, newest activity first, then chat id descending: private chats once they
/// have a message (they are created by the first one), groups from their creation. With
/// `interlocutor`, only the private chat with that user.
pub async fn list_for(
    conn: &mut AsyncPgConnection,
    user: UserId,
    interlocutor: Option<UserId>,
    after: Option<Cursor>,
    limit: usize,
) -> QueryResult<Page<ChatRow>> {
    // From the person's memberships to their chats by key: a person's chats are few next to
    // everyone's, and a semi-join the other way round lets the planner scan every chat.
    let filtered = || {
        let mut query = chat_members::table
            .inner_join(chats::table)
            .filter(chat_members::user_id.eq(user))
            .filter(chats::last_message_at.is_not_null().or(chats::kind.eq("group")))
            .into_boxed();
        if let Some(other) = interlocutor {
            let (low, high) = ordered(user, other);
            query = query.filter(
                chats::id.eq_any(
                    private_chats::table
                        .filter(private_chats::user_low.eq(low))
                        .filter(private_chats::user_high.eq(high))
                        .select(private_chats::chat_id),
                ),
            );
        }
        query
    };
    // The whole list's size is kept by triggers (migration `listed_chats_count`); the private
    // chat with one person is at most one row to count.
    let total_count = match interlocutor {
        None => {
            user_counts::table.find(user).select(user_counts::chats).first::<i64>(conn).await.optional()?.unwrap_or(0)
        }
        Some(_) => filtered().count().get_result::<i64>(conn).await?,
    };
    let mut query = filtered()
        .order((diesel::dsl::sql::<diesel::sql_types::Timestamptz>(ACTIVITY).desc(), chats::id.desc()))
        .limit(i64::try_from(limit + 1).unwrap_or(i64::MAX));
    if let Some(cursor) = after {
        query = query.filter(keyset(ACTIVITY, "chats.id", Side::Below, cursor));
    }
    let rows = query.select(ChatRow::as_select()).load(conn).await?;
    Ok(Page::from_overfetch(rows, limit, total_count, |c| {
        Cursor::new(c.id.0, c.last_message_at.unwrap_or(c.created_at))
    }))
}
