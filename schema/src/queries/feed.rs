//! The home feed (docs/API.md §5.8): live posts written by the viewer or by one of the viewer's
//! friends (an accepted request, either way), on whichever wall, newest first.
//!
//! Built when read, from each author's own newest-first index of live posts
//! (`posts_author_live_idx`): every author gives at most a page of keys past the cursor, the
//! newest page of all of them is kept, and only that page's rows are read. Nothing is copied
//! when a post is written, so a post is in its author's friends' feeds the moment it commits and
//! out of them the moment it is removed or its author stops being a friend; and pages are cut by
//! a keyset cursor, so a post written between two page requests never shows twice.

use diesel::sql_types::{BigInt, Integer, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::UserId;
use crate::models::PostRow;
use crate::paging::{Cursor, NewestFirst, Page};

/// The viewer (`$1`) and the viewer's friends, each once (a pair has one request row).
const AUTHORS: &str = "\
WITH authors AS MATERIALIZED (
    SELECT $1::uuid AS id
    UNION ALL SELECT responder_id FROM friendship_requests WHERE requester_id = $1 AND accepted
    UNION ALL SELECT requester_id FROM friendship_requests WHERE responder_id = $1 AND accepted
)";

/// A page of the feed: `$2`, `$3` the cursor (none for the newest page), `$4` rows wanted.
/// `older` lists past the cursor newest first; otherwise the rows above it, oldest first. Sent
/// with `sql_query`, so planned for its own values: without a cursor the condition on it folds
/// away and each author's scan starts at the author's newest post.
fn page_sql(older: bool) -> String {
    let (beyond, order) = if older { ("<", "DESC") } else { (">", "ASC") };
    format!(
        "{AUTHORS}, page AS (
    SELECT p.id, p.created_at FROM authors a CROSS JOIN LATERAL (
        SELECT id, created_at FROM posts
        WHERE author_id = a.id AND removed_at IS NULL
          AND ($2::timestamptz IS NULL OR (created_at, id) {beyond} ($2, $3::uuid))
        ORDER BY created_at {order}, id {order} LIMIT $4
    ) p
    ORDER BY p.created_at {order}, p.id {order} LIMIT $4
)
SELECT posts.id, posts.author_id, posts.owner_id, posts.message, posts.created_at, posts.removed_at
FROM page JOIN posts ON posts.id = page.id
ORDER BY page.created_at {order}, page.id {order}"
    )
}

/// Live posts of the viewer and the viewer's friends: the counts the triggers keep (migration
/// `counts`), one row per author.
fn count_sql() -> String {
    format!(
        "{AUTHORS}
SELECT coalesce(sum(c.authored_posts), 0)::bigint AS total
FROM authors a JOIN user_counts c ON c.user_id = a.id"
    )
}

#[derive(QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

fn cursor_of(p: &PostRow) -> Cursor {
    Cursor::new(p.id.0, p.created_at)
}

/// A page of `viewer`'s feed from `position`, with every live post of its authors counted. The
/// count and the page are pipelined: one round trip.
pub async fn page(
    conn: &AsyncPgConnection,
    viewer: UserId,
    position: NewestFirst,
    limit: usize,
) -> QueryResult<Page<PostRow>> {
    let (older, cursor) = match position {
        NewestFirst::Newest => (true, None),
        NewestFirst::Older(cursor) => (true, Some(cursor)),
        NewestFirst::Newer(cursor) => (false, Some(cursor)),
    };
    let fetch = i32::try_from(limit + 1).unwrap_or(i32::MAX);
    let count_sql = count_sql();
    let page_sql = page_sql(older);
    let (mut counting, mut reading) = (conn, conn);
    let counted = diesel::sql_query(&count_sql).bind::<SqlUuid, _>(viewer).get_result::<Total>(&mut counting);
    let read = diesel::sql_query(&page_sql)
        .bind::<SqlUuid, _>(viewer)
        .bind::<Nullable<Timestamptz>, _>(cursor.map(|c| c.at))
        .bind::<Nullable<SqlUuid>, _>(cursor.map(|c| c.id))
        .bind::<Integer, _>(fetch)
        .load::<PostRow>(&mut reading);
    let (total, rows) = futures_util::future::join(counted, read).await;
    let (total_count, rows) = (total?.total, rows?);
    Ok(if older {
        Page::from_overfetch(rows, limit, total_count, cursor_of)
    } else {
        Page::from_newer_overfetch(rows, limit, total_count, cursor_of)
    })
}
