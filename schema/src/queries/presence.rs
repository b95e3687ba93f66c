//! Presence transitions, arbitrated by the database so that exactly one node announces each.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::UserId;
use crate::schema::users;

/// Marks each of `users` as announced online; returns those this call flipped, with their last
/// activity: the online transitions this caller is responsible for announcing.
pub async fn claim_online(conn: &mut AsyncPgConnection, users: &[UserId]) -> QueryResult<Vec<(UserId, DateTime<Utc>)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(users::table.filter(users::id.eq_any(users)).filter(users::presence_announced.eq(false)))
        .set(users::presence_announced.eq(true))
        .returning((users::id, users::last_activity_at))
        .get_results(conn)
        .await
}

/// Marks every announced-online user whose activity is not after `cutoff` as offline and returns
/// them: the offline transitions this call is responsible for announcing.
pub async fn claim_offline(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> QueryResult<Vec<(UserId, DateTime<Utc>)>> {
    diesel::update(users::table.filter(users::presence_announced.eq(true)).filter(users::last_activity_at.le(cutoff)))
        .set(users::presence_announced.eq(false))
        .returning((users::id, users::last_activity_at))
        .get_results(conn)
        .await
}

/// Users announced online, across every node (the metric `nosebook_users_online`).
pub async fn online_count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    users::table.filter(users::presence_announced.eq(true)).count().get_result(conn).await
}
