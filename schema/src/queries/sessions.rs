use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::{SessionId, UserId};
use crate::models::{SessionRow, UserRow};
use crate::queries::prepared::prepared;
use crate::schema::{user_sessions, users};

/// Longest user agent kept with a session; browsers' are about 150 bytes.
pub const USER_AGENT_MAX_CHARS: usize = 256;

/// A new session, with the user agent it was opened from (cut to [`USER_AGENT_MAX_CHARS`]).
pub async fn insert(conn: &mut AsyncPgConnection, session: &SessionRow, user_agent: Option<&str>) -> QueryResult<()> {
    let user_agent: Option<String> = user_agent.map(|ua| ua.chars().take(USER_AGENT_MAX_CHARS).collect());
    diesel::insert_into(user_sessions::table)
        .values((session, user_sessions::user_agent.eq(user_agent)))
        .execute(conn)
        .await
        .map(drop)
}

/// A session as its owner sees it in the list of their sessions.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionListing {
    pub session_id: SessionId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
}

/// The user's unexpired sessions, most recently used (latest expiry) first.
pub async fn list_for_user(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SessionListing>> {
    user_sessions::table
        .filter(user_sessions::user_id.eq(user))
        .filter(user_sessions::expires_at.gt(now))
        .order((user_sessions::expires_at.desc(), user_sessions::session_id))
        .select(SessionListing::as_select())
        .load(conn)
        .await
}

/// Deletes the session if it is `user`'s; answers whether it was.
pub async fn delete_of_user(conn: &mut AsyncPgConnection, user: UserId, id: SessionId) -> QueryResult<bool> {
    diesel::delete(user_sessions::table.find(id).filter(user_sessions::user_id.eq(user)))
        .execute(conn)
        .await
        .map(|n| n > 0)
}

/// Deletes every session of `user` but `keep`; answers the ids deleted.
pub async fn delete_others(conn: &mut AsyncPgConnection, user: UserId, keep: SessionId) -> QueryResult<Vec<SessionId>> {
    diesel::delete(
        user_sessions::table.filter(user_sessions::user_id.eq(user)).filter(user_sessions::session_id.ne(keep)),
    )
    .returning(user_sessions::session_id)
    .get_results(conn)
    .await
}

/// The session and its user, whether or not it has expired: expiry is the caller's decision,
/// made against the one clock.
pub async fn find_with_user(conn: &mut AsyncPgConnection, id: SessionId) -> QueryResult<Option<(SessionRow, UserRow)>> {
    Ok(find_many_with_user(conn, &[id]).await?.pop())
}

/// The sessions of `ids` that exist, each with its user (expired ones too): one query for a
/// crowd.
pub async fn find_many_with_user(
    conn: &mut AsyncPgConnection,
    ids: &[SessionId],
) -> QueryResult<Vec<(SessionRow, UserRow)>> {
    user_sessions::table
        .inner_join(users::table)
        .filter(user_sessions::session_id.eq_any(ids))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .load(conn)
        .await
}

/// Deletes the session and returns it as it was.
pub async fn delete(conn: &mut AsyncPgConnection, id: SessionId) -> QueryResult<Option<SessionRow>> {
    diesel::delete(user_sessions::table.find(id))
        .returning(SessionRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// A session in use: the user's activity and the session's expiry slide forward (never
/// backward), in one statement, so one round trip and atomic without a transaction around it.
/// The user's row is locked first, as everywhere else: the main update waits for the `seen`
/// one, which it reads.
pub async fn touch(
    conn: &mut AsyncPgConnection,
    id: SessionId,
    user: UserId,
    active_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    prepared(
        "WITH seen AS (UPDATE users SET last_activity_at = GREATEST(last_activity_at, $1) WHERE id = $2 RETURNING 1) \
         UPDATE user_sessions SET expires_at = GREATEST(expires_at, $3) \
         WHERE session_id = $4 AND (SELECT count(*) FROM seen) >= 0",
    )
    .bind::<Timestamptz, _>(active_at)
    .bind::<diesel::sql_types::Uuid, _>(user.0)
    .bind::<Timestamptz, _>(expires_at)
    .bind::<diesel::sql_types::Uuid, _>(id.0)
    .execute(conn)
    .await
    .map(drop)
}

/// Sessions of `ids` coming into use together (a node loading a crowd of them at once): each
/// unexpired one's user is active at `now` and its expiry slides to `expires_at`, in one
/// statement for the whole crowd. Rows are locked as [`touch`] locks them, users first, and
/// each kind in key order, so two crowds (or a crowd and a single touch) sharing a user wait for
/// each other instead of deadlocking.
pub async fn touch_many(
    conn: &mut AsyncPgConnection,
    ids: &[SessionId],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
    prepared(
        "WITH locked AS (SELECT id FROM users WHERE id IN \
             (SELECT user_id FROM user_sessions WHERE session_id = ANY($1) AND expires_at > $2) \
             ORDER BY id FOR NO KEY UPDATE), \
         seen AS (UPDATE users SET last_activity_at = GREATEST(users.last_activity_at, $3) \
             FROM locked WHERE users.id = locked.id RETURNING 1), \
         kept AS (SELECT session_id FROM user_sessions \
             WHERE session_id = ANY($4) AND expires_at > $5 AND (SELECT count(*) FROM seen) >= 0 \
             ORDER BY session_id FOR NO KEY UPDATE) \
         UPDATE user_sessions SET expires_at = GREATEST(user_sessions.expires_at, $6) \
         FROM kept WHERE user_sessions.session_id = kept.session_id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(now)
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(&ids)
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(expires_at)
    .execute(conn)
    .await
    .map(drop)
}

/// Deletes up to `limit` sessions that expired before `now`; answers how many went.
pub async fn delete_expired(conn: &mut AsyncPgConnection, now: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM user_sessions WHERE session_id IN \
         (SELECT session_id FROM user_sessions WHERE expires_at < $1 LIMIT $2)",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await
}
