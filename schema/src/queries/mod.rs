pub mod chats;
pub mod comments;
pub mod event_log;
pub mod feed;
pub mod friendship;
pub mod likes;
pub mod login_failures;
pub mod messages;
pub mod outbox;
pub mod posts;
pub mod prepared;
pub mod presence;
pub mod sessions;
pub mod users;
pub mod walls;

use diesel::BoxableExpression;
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Timestamptz, Uuid as SqlUuid};
use diesel_async::AsyncConnectionCore;

use crate::paging::Cursor;

/// Which side of a cursor a keyset page lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Rows that sort after the cursor in a descending list: `(time, id) < cursor`.
    Below,
    /// `(time, id) > cursor`.
    Above,
}

/// `(time_col, id_col) <op> (cursor.at, cursor.id)` as one row comparison, which PostgreSQL
/// answers from a `(time, id)` index directly.
/// A connection a query can run on: a connection of its own (`&mut AsyncPgConnection`), or a
/// shared one (`&mut &AsyncPgConnection`) on which several queries are pipelined — sent
/// together, run by PostgreSQL in the order sent (see the chat writers' batch).
pub trait Conn: AsyncConnectionCore<Backend = Pg> {}
impl<C: AsyncConnectionCore<Backend = Pg>> Conn for C {}

pub(crate) fn keyset<QS>(
    time_col: &str,
    id_col: &str,
    side: Side,
    cursor: Cursor,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    let op = match side {
        Side::Below => "<",
        Side::Above => ">",
    };
    Box::new(
        sql::<Bool>(&format!("({time_col}, {id_col}) {op} ("))
            .bind::<Timestamptz, _>(cursor.at)
            .sql(", ")
            .bind::<SqlUuid, _>(cursor.id)
            .sql(")"),
    )
}
