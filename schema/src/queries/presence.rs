//! Presence transitions, arbitrated by the database so that exactly one node announces each.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::UserId;
use crate::queries::prepared::prepared;
use crate::schema::users;

/// Marks each of `users` as announced online; returns those this call flipped, with their last
/// activity: the online transitions this caller is responsible for announcing. Rows are locked
/// in key order, as every other write of `users` locks them (a crowd's activity write among
/// them), so that two such writes wait for each other instead of deadlocking.
pub async fn claim_online(conn: &mut AsyncPgConnection, users: &[UserId]) -> QueryResult<Vec<(UserId, DateTime<Utc>)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.0).collect();
    let flipped: Vec<Flipped> = prepared(
        "WITH locked AS (SELECT id FROM users WHERE id = ANY($1) AND NOT presence_announced \
             ORDER BY id FOR NO KEY UPDATE) \
         UPDATE users SET presence_announced = true FROM locked \
         WHERE users.id = locked.id AND NOT users.presence_announced \
         RETURNING users.id, users.last_activity_at",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .get_results(conn)
    .await?;
    Ok(flipped.into_iter().map(Flipped::pair).collect())
}

/// Marks every announced-online user whose activity is not after `cutoff` as offline and returns
/// them: the offline transitions this call is responsible for announcing. Locked in key order,
/// as [`claim_online`].
pub async fn claim_offline(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> QueryResult<Vec<(UserId, DateTime<Utc>)>> {
    let flipped: Vec<Flipped> = prepared(
        "WITH locked AS (SELECT id FROM users WHERE presence_announced AND last_activity_at <= $1 \
             ORDER BY id FOR NO KEY UPDATE) \
         UPDATE users SET presence_announced = false FROM locked \
         WHERE users.id = locked.id AND users.presence_announced AND users.last_activity_at <= $2 \
         RETURNING users.id, users.last_activity_at",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
    .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
    .get_results(conn)
    .await?;
    Ok(flipped.into_iter().map(Flipped::pair).collect())
}

/// A presence transition claimed: who, and their last activity.
#[derive(QueryableByName)]
struct Flipped {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    last_activity_at: DateTime<Utc>,
}

impl Flipped {
    fn pair(self) -> (UserId, DateTime<Utc>) {
        (UserId(self.id), self.last_activity_at)
    }
}

/// Users announced online, across every node (the metric `nosebook_users_online`).
pub async fn online_count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    users::table.filter(users::presence_announced.eq(true)).count().get_result(conn).await
}
