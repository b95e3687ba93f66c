use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::SessionId;
use crate::models::{SessionRow, UserRow};
use crate::schema::{user_sessions, users};

pub async fn insert(conn: &mut AsyncPgConnection, session: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(user_sessions::table).values(session).execute(conn).await.map(drop)
}

/// The session and its user, whether or not it has expired: expiry is the caller's decision,
/// made against the one clock.
pub async fn find_with_user(conn: &mut AsyncPgConnection, id: SessionId) -> QueryResult<Option<(SessionRow, UserRow)>> {
    user_sessions::table
        .inner_join(users::table)
        .filter(user_sessions::session_id.eq(id))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .await
        .optional()
}

/// Deletes the session and returns it as it was.
pub async fn delete(conn: &mut AsyncPgConnection, id: SessionId) -> QueryResult<Option<SessionRow>> {
    diesel::delete(user_sessions::table.find(id))
        .returning(SessionRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Slides the expiry forward (never backward).
pub async fn extend(conn: &mut AsyncPgConnection, id: SessionId, expires_at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(user_sessions::table.find(id))
        .set(
            user_sessions::expires_at
                .eq(sql::<Timestamptz>("GREATEST(expires_at, ").bind::<Timestamptz, _>(expires_at).sql(")")),
        )
        .execute(conn)
        .await
        .map(drop)
}
