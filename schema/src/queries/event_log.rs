//! The epoch of each event log: which incarnation of the RabbitMQ stream of that name the nodes
//! read (see the `event_log_epochs` migration).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::schema::event_log_epochs;

/// The epoch of `log`, `proposed` if it had none yet.
pub async fn epoch(conn: &mut AsyncPgConnection, log: &str, proposed: &str) -> QueryResult<String> {
    diesel::insert_into(event_log_epochs::table)
        .values((event_log_epochs::log.eq(log), event_log_epochs::epoch.eq(proposed)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    event_log_epochs::table.find(log).select(event_log_epochs::epoch).get_result(conn).await
}

/// `log` is a new incarnation of the one whose epoch was `known`: its epoch becomes `proposed`,
/// unless another node moved it on from `known` first. Answers the epoch now in force.
pub async fn replace(conn: &mut AsyncPgConnection, log: &str, known: &str, proposed: &str) -> QueryResult<String> {
    diesel::update(event_log_epochs::table.find(log).filter(event_log_epochs::epoch.eq(known)))
        .set(event_log_epochs::epoch.eq(proposed))
        .execute(conn)
        .await?;
    epoch(conn, log, proposed).await
}
