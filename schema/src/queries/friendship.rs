//! The friendship graph: one row per pair of users (docs/API.md §5.6).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::ids::UserId;
use crate::models::FriendRequestRow;
use crate::paging::{Cursor, Page};
use crate::queries::prepared::prepared;
use crate::schema::friendship_requests as fr;

/// Inserts a new pending request; `None` when the pair already has a row, in either direction
/// (the unique pair index decides, so two parallel requests cannot both succeed).
pub async fn insert(conn: &mut AsyncPgConnection, row: &FriendRequestRow) -> QueryResult<Option<FriendRequestRow>> {
    diesel::insert_into(fr::table)
        .values(row)
        .on_conflict_do_nothing()
        .returning(FriendRequestRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Accepts or denies the pending request `requester` → `responder`. Either way it becomes
/// viewed; a denied one stays pending.
pub async fn respond(
    conn: &mut AsyncPgConnection,
    requester: UserId,
    responder: UserId,
    accept: bool,
) -> QueryResult<Option<FriendRequestRow>> {
    diesel::update(fr::table.find((requester, responder)).filter(fr::accepted.eq(false)))
        .set((fr::accepted.eq(accept), fr::viewed.eq(true)))
        .returning(FriendRequestRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Withdraws the caller's own pending request to `responder` (accepted ones end by `unfriend`).
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    requester: UserId,
    responder: UserId,
) -> QueryResult<Option<FriendRequestRow>> {
    diesel::delete(fr::table.find((requester, responder)).filter(fr::accepted.eq(false)))
        .returning(FriendRequestRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Ends a friendship: the ex-friend becomes a pending request to the caller, whoever asked first.
pub async fn unfriend(
    conn: &mut AsyncPgConnection,
    caller: UserId,
    friend: UserId,
) -> QueryResult<Option<FriendRequestRow>> {
    let pair = fr::requester_id
        .eq(caller)
        .and(fr::responder_id.eq(friend))
        .or(fr::requester_id.eq(friend).and(fr::responder_id.eq(caller)));
    diesel::update(fr::table.filter(fr::accepted.eq(true)).filter(pair))
        .set((fr::requester_id.eq(friend), fr::responder_id.eq(caller), fr::accepted.eq(false)))
        .returning(FriendRequestRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Which of a user's rows to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Both,
    /// Requests others sent to the user.
    Incoming,
    /// Requests the user sent.
    Outgoing,
}

#[derive(Debug, Clone, Copy)]
pub struct FriendshipFilter {
    pub user: UserId,
    pub direction: Direction,
    pub accepted: Option<bool>,
    pub viewed: Option<bool>,
    /// Only rows whose other user was active after this instant.
    pub active_since: Option<DateTime<Utc>>,
}

/// A row seen from the listed user's side.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct FriendshipEntry {
    #[diesel(sql_type = SqlUuid)]
    pub other_id: Uuid,
    /// True when the other user sent the request.
    #[diesel(sql_type = Bool)]
    pub incoming: bool,
    #[diesel(sql_type = Bool)]
    pub accepted: bool,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The filtered rows of one direction, as `(other_id, incoming, accepted, created_at)`. Each
/// side reads its own index, `(responder_id | requester_id, created_at DESC, other DESC)`.
fn side_sql(filter: &FriendshipFilter, incoming: bool, with_cursor: bool) -> String {
    let (me, other) = if incoming { ("responder_id", "requester_id") } else { ("requester_id", "responder_id") };
    let mut sql = format!(
        "SELECT f.{other} AS other_id, {incoming} AS incoming, f.accepted, f.created_at \
         FROM friendship_requests f WHERE f.{me} = $1"
    );
    // The states as constants, not parameters: the planner must see `NOT f.accepted` in the
    // statement to read the pending rows' own indexes (migration `counts`) instead of walking all
    // of a popular person's friends to find the few requests among them.
    match filter.accepted {
        Some(true) => sql.push_str(" AND f.accepted"),
        Some(false) => sql.push_str(" AND NOT f.accepted"),
        None => {}
    }
    match filter.viewed {
        Some(true) => sql.push_str(" AND f.viewed"),
        Some(false) => sql.push_str(" AND NOT f.viewed"),
        None => {}
    }
    if filter.active_since.is_some() {
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM users u WHERE u.id = f.{other} AND u.last_activity_at > $4)"
        ));
    }
    if with_cursor {
        sql.push_str(&format!(" AND (f.created_at, f.{other}) < ($5, $6)"));
    }
    sql
}

/// Both directions' rows, or one's. With `limit`, each side is ordered as its index is and cut
/// there, so that a page reads at most that many rows of each side whatever the planner
/// estimates (otherwise it may read every row of a person with thousands of friends and sort).
fn union_sql(filter: &FriendshipFilter, with_cursor: bool, limit: Option<usize>) -> String {
    let side = |incoming: bool| {
        let sql = side_sql(filter, incoming, with_cursor);
        let other = if incoming { "requester_id" } else { "responder_id" };
        match limit {
            Some(limit) => format!("{sql} ORDER BY f.created_at DESC, f.{other} DESC LIMIT {limit}"),
            None => sql,
        }
    };
    match filter.direction {
        Direction::Incoming => side(true),
        Direction::Outgoing => side(false),
        Direction::Both => format!("({}) UNION ALL ({})", side(true), side(false)),
    }
}

/// Binds the six parameters every variant of the query may use; unused ones are harmless.
macro_rules! bind_all {
    ($query:expr, $filter:expr, $cursor:expr) => {
        $query
            .bind::<SqlUuid, _>($filter.user.0)
            .bind::<Bool, _>($filter.accepted.unwrap_or(false))
            .bind::<Bool, _>($filter.viewed.unwrap_or(false))
            .bind::<Timestamptz, _>($filter.active_since.unwrap_or_default())
            .bind::<Timestamptz, _>($cursor.map(|c: Cursor| c.at).unwrap_or_default())
            .bind::<SqlUuid, _>($cursor.map(|c: Cursor| c.id).unwrap_or_default())
    };
}

/// The `user_counts` columns whose sum is the filter's total, where the triggers keep it
/// (migration `counts`); `None` for the filters by activity and by viewed (but for requests
/// waiting unseen), counted row by row.
fn kept_total(filter: &FriendshipFilter) -> Option<String> {
    if filter.active_since.is_some() {
        return None;
    }
    if let Some(viewed) = filter.viewed {
        // Requests waiting unseen: the friends page's badge.
        let unseen = !viewed && filter.accepted == Some(false) && filter.direction == Direction::Incoming;
        return unseen.then(|| "unviewed_in".to_owned());
    }
    let sides: &[&str] = match filter.direction {
        Direction::Both => &["in", "out"],
        Direction::Incoming => &["in"],
        Direction::Outgoing => &["out"],
    };
    let states: &[&str] = match filter.accepted {
        Some(true) => &["accepted"],
        Some(false) => &["pending"],
        None => &["accepted", "pending"],
    };
    let columns: Vec<String> =
        states.iter().flat_map(|state| sides.iter().map(move |side| format!("{state}_{side}"))).collect();
    Some(columns.join(" + "))
}

/// A user's friendship rows, newest request first, then the other user's id descending.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: FriendshipFilter,
    after: Option<Cursor>,
    limit: usize,
) -> QueryResult<Page<FriendshipEntry>> {
    // Every variant names $1..$6 so the binds line up; the unused ones are compared to nothing.
    let placeholders = " AND $2::bool IS NOT NULL AND $3::bool IS NOT NULL AND $4::timestamptz IS NOT NULL \
                        AND $5::timestamptz IS NOT NULL AND $6::uuid IS NOT NULL";
    let total_sql = match kept_total(&filter) {
        Some(sum) => format!(
            "SELECT COALESCE((SELECT {sum} FROM user_counts WHERE user_id = $1), 0)::bigint AS total \
             WHERE TRUE{placeholders}"
        ),
        None => {
            format!("SELECT count(*) AS total FROM ({}) rows WHERE TRUE{placeholders}", union_sql(&filter, false, None))
        }
    };
    let total = bind_all!(diesel::sql_query(total_sql), filter, None::<Cursor>).get_result::<Total>(conn).await?.total;
    let page_sql = format!(
        "SELECT * FROM ({}) rows WHERE TRUE{placeholders} ORDER BY created_at DESC, other_id DESC LIMIT {}",
        union_sql(&filter, after.is_some(), Some(limit + 1)),
        limit + 1
    );
    let rows: Vec<FriendshipEntry> = bind_all!(diesel::sql_query(page_sql), filter, after).load(conn).await?;
    Ok(Page::from_overfetch(rows, limit, total, |e| Cursor::new(e.other_id, e.created_at)))
}

/// Every row between `source` and any of `targets`.
pub async fn between(
    conn: &mut AsyncPgConnection,
    source: UserId,
    targets: &[UserId],
) -> QueryResult<Vec<FriendRequestRow>> {
    let pairs = fr::requester_id
        .eq(source)
        .and(fr::responder_id.eq_any(targets))
        .or(fr::responder_id.eq(source).and(fr::requester_id.eq_any(targets)));
    fr::table.filter(pairs).select(FriendRequestRow::as_select()).load(conn).await
}

/// The friends of each of `users`, as (user, friend) pairs: one statement for any number of
/// users (presence tells the friends of thousands at once after a reconnect storm).
pub async fn friends_of_many(conn: &mut AsyncPgConnection, users: &[UserId]) -> QueryResult<Vec<(UserId, UserId)>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(QueryableByName)]
    struct Pair {
        #[diesel(sql_type = SqlUuid)]
        requester_id: UserId,
        #[diesel(sql_type = SqlUuid)]
        responder_id: UserId,
    }
    // Each side through its own index, which holds the other side and `accepted`: no row is
    // read from the table (with `OR`, PostgreSQL fetched every matching row from the table, one
    // random page each: seconds for a crowd coming online at once on a big graph). A pair of two
    // of `users` comes from the first side only.
    let pairs: Vec<Pair> = prepared(
        "SELECT requester_id, responder_id FROM friendship_requests WHERE requester_id = ANY($1) AND accepted \
         UNION ALL \
         SELECT requester_id, responder_id FROM friendship_requests \
         WHERE responder_id = ANY($2) AND accepted AND NOT requester_id = ANY($3)",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(users)
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(users)
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(users)
    .load(conn)
    .await?;
    let pairs = pairs.into_iter().map(|p| (p.requester_id, p.responder_id));
    let asked: std::collections::HashSet<&UserId> = users.iter().collect();
    let mut friends = Vec::with_capacity(pairs.len());
    for (requester, responder) in pairs {
        if asked.contains(&requester) {
            friends.push((requester, responder));
        }
        if asked.contains(&responder) {
            friends.push((responder, requester));
        }
    }
    Ok(friends)
}
