//! The epoch of each event log: which incarnation of the RabbitMQ stream of that name the nodes
//! read (see the `event_log_epochs` migration).

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::event_log_epochs;

/// Makes the calling transaction the only one, on any node, that looks for `log` on the broker,
/// creates it when it is missing and sets its epoch: a node that finds the log new and one that
/// finds it already there then agree on the epoch in force.
pub async fn lock(conn: &mut AsyncPgConnection, log: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('event-log:' || $1, 0))")
        .bind::<Text, _>(log)
        .execute(conn)
        .await
        .map(drop)
}

/// The epoch of `log`, if it has one yet.
pub async fn epoch(conn: &mut AsyncPgConnection, log: &str) -> QueryResult<Option<String>> {
    event_log_epochs::table.find(log).select(event_log_epochs::epoch).get_result(conn).await.optional()
}

/// Sets the epoch of `log` (a log created now, or one that had none).
pub async fn set(conn: &mut AsyncPgConnection, log: &str, epoch: &str) -> QueryResult<()> {
    diesel::insert_into(event_log_epochs::table)
        .values((event_log_epochs::log.eq(log), event_log_epochs::epoch.eq(epoch)))
        .on_conflict(event_log_epochs::log)
        .do_update()
        .set(event_log_epochs::epoch.eq(epoch))
        .execute(conn)
        .await
        .map(drop)
}

/// `log` turned out to be a new incarnation of the one whose epoch was `known`: its epoch becomes
/// `proposed`, unless another node moved it on from `known` first. Answers the epoch now in force.
pub async fn replace(conn: &mut AsyncPgConnection, log: &str, known: &str, proposed: &str) -> QueryResult<String> {
    diesel::update(event_log_epochs::table.find(log).filter(event_log_epochs::epoch.eq(known)))
        .set(event_log_epochs::epoch.eq(proposed))
        .execute(conn)
        .await?;
    Ok(epoch(conn, log).await?.unwrap_or_else(|| proposed.to_owned()))
}
