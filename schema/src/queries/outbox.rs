//! The transactional outbox: events are rows written with the change that causes them, and a
//! relay publishes them afterwards (at least once).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::UserId;
use crate::models::OutboxRow;
use crate::schema::outbox;

/// Queues one event (one frame) for every recipient: one row, however many they are. Call it
/// inside the transaction of the change. `trace_context` is the writer's W3C `traceparent`,
/// carried to the notifier.
pub async fn push(
    conn: &mut AsyncPgConnection,
    recipients: &[UserId],
    frame: &str,
    trace_context: Option<&str>,
) -> QueryResult<()> {
    if recipients.is_empty() {
        return Ok(());
    }
    diesel::insert_into(outbox::table)
        .values((outbox::recipients.eq(recipients), outbox::frame.eq(frame), outbox::trace_context.eq(trace_context)))
        .execute(conn)
        .await
        .map(drop)
}

/// How long a writer that publishes its own rows from memory keeps them to itself: far longer
/// than a publish takes (the relay gives the broker 10 s), so a row is taken over only when its
/// writer's node died or could not publish it.
pub const CLAIM: &str = "30 seconds";

/// An event about to be written, for rows a writer publishes itself ([`OutboxRow`] once its
/// id is known).
#[derive(Debug, Clone)]
pub struct Pending {
    pub recipients: Vec<UserId>,
    pub frame: String,
    pub trace_context: Option<String>,
}

impl Pending {
    pub fn written_as(self, id: i64) -> OutboxRow {
        OutboxRow { id, recipients: self.recipients, frame: self.frame, trace_context: self.trace_context }
    }
}

/// Makes the calling transaction the only one draining the outbox until it ends: relays that
/// took batches side by side could publish a later row before an earlier one.
pub async fn lock_drain(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('outbox-drain', 0))").execute(conn).await.map(drop)
}

/// The oldest unpublished rows nobody has claimed (or whose claim ran out), locked so that
/// several relays share the work without publishing a row twice at the same time
/// (`SKIP LOCKED`).
pub async fn take(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::published_at.is_null())
        .filter(outbox::claimed_until.is_null().or(outbox::claimed_until.lt(diesel::dsl::now)))
        .order(outbox::id)
        .limit(limit)
        .select(OutboxRow::as_select())
        .for_update()
        .skip_locked()
        .load(conn)
        .await
}

/// Subscribes `conn` to the notice every commit of unclaimed rows sends (the migration's trigger
/// on `outbox`); read them with `conn.notifications_stream()`.
pub async fn listen(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("LISTEN outbox").execute(conn).await.map(drop)
}

/// Gives up the claim on rows their writer could not publish: relays take them from the table
/// from now on, as any other unpublished row.
pub async fn release(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<()> {
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set(outbox::claimed_until.eq(None::<DateTime<Utc>>))
        .execute(conn)
        .await
        .map(drop)
}

pub async fn mark_published(conn: &mut AsyncPgConnection, ids: &[i64], at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set(outbox::published_at.eq(at))
        .execute(conn)
        .await
        .map(drop)
}

/// Unpublished rows and the creation time of the oldest (the outbox metrics).
pub async fn backlog(conn: &mut AsyncPgConnection) -> QueryResult<(i64, Option<DateTime<Utc>>)> {
    outbox::table
        .filter(outbox::published_at.is_null())
        .select((diesel::dsl::count_star(), diesel::dsl::min(outbox::created_at)))
        .get_result(conn)
        .await
}

/// Deletes up to `limit` rows published before `before`, oldest first; answers how many went.
/// Old rows sit at the low ids, so the primary key finds them without scanning the rest.
pub async fn prune_published(conn: &mut AsyncPgConnection, before: DateTime<Utc>, limit: i64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM outbox WHERE id IN \
         (SELECT id FROM outbox WHERE published_at < $1 ORDER BY id LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
    .await
}
