use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::ids::{CommentId, PostId, UserId};
use crate::models::CommentRow;
use crate::paging::{Cursor, Page};
use crate::queries::prepared::prepared;
use crate::queries::{Side, keyset};
use crate::schema::{comments, post_counts};

pub async fn insert(
    conn: &mut AsyncPgConnection,
    post: PostId,
    author: UserId,
    message: &str,
    at: DateTime<Utc>,
) -> QueryResult<CommentRow> {
    diesel::insert_into(comments::table)
        .values((
            comments::id.eq(CommentId::new_random()),
            comments::post_id.eq(post),
            comments::author_id.eq(author),
            comments::message.eq(message),
            comments::created_at.eq(at),
        ))
        .returning(CommentRow::as_returning())
        .get_result(conn)
        .await
}

/// A comment in any state, locked for the caller's update.
pub async fn find_for_update(conn: &mut AsyncPgConnection, id: CommentId) -> QueryResult<Option<CommentRow>> {
    comments::table.find(id).select(CommentRow::as_select()).for_update().first(conn).await.optional()
}

/// A live comment, attached to a post or not (likes accept both).
pub async fn find_live_for_share(conn: &mut AsyncPgConnection, id: CommentId) -> QueryResult<Option<CommentRow>> {
    comments::table
        .find(id)
        .filter(comments::removed_at.is_null())
        .select(CommentRow::as_select())
        .for_share()
        .first(conn)
        .await
        .optional()
}

/// A live comment that belongs to a post: what `GET /comments/:id` shows.
pub async fn find_shown(conn: &mut AsyncPgConnection, id: CommentId) -> QueryResult<Option<CommentRow>> {
    comments::table
        .find(id)
        .filter(comments::removed_at.is_null())
        .filter(comments::post_id.is_not_null())
        .select(CommentRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn mark_removed(conn: &mut AsyncPgConnection, id: CommentId, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(comments::table.find(id)).set(comments::removed_at.eq(at)).execute(conn).await.map(drop)
}

/// Where a page of comments starts. Comments are listed oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    First,
    /// The page right after the cursor.
    After(Cursor),
    /// The page right before the cursor.
    Before(Cursor),
    /// The newest comments, still oldest first.
    Last,
}

fn live_of(post: PostId) -> comments::BoxedQuery<'static, diesel::pg::Pg> {
    comments::table.filter(comments::post_id.eq(post)).filter(comments::removed_at.is_null()).into_boxed()
}

fn cursor_of(c: &CommentRow) -> Cursor {
    Cursor::new(c.id.0, c.created_at)
}

/// Live comments of a post, oldest first. `next` and `prev` are set when rows exist past the
/// page on that side.
pub async fn page(
    conn: &mut AsyncPgConnection,
    post: PostId,
    position: Position,
    limit: usize,
) -> QueryResult<Page<CommentRow>> {
    let total_count = post_counts::table
        .find(post.0)
        .select(post_counts::comments)
        .get_result::<i64>(conn)
        .await
        .optional()?
        .unwrap_or(0);
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let ascending = (comments::created_at.asc(), comments::id.asc());
    let descending = (comments::created_at.desc(), comments::id.desc());
    let select = CommentRow::as_select();
    match position {
        Position::First | Position::After(_) => {
            let mut query = live_of(post).order(ascending).limit(fetch);
            if let Position::After(cursor) = position {
                query = query.filter(keyset("comments.created_at", "comments.id", Side::Above, cursor));
            }
            let rows = query.select(select).load(conn).await?;
            Ok(Page::from_overfetch(rows, limit, total_count, cursor_of))
        }
        Position::Before(_) | Position::Last => {
            let mut query = live_of(post).order(descending).limit(fetch);
            if let Position::Before(cursor) = position {
                query = query.filter(keyset("comments.created_at", "comments.id", Side::Below, cursor));
            }
            let mut rows: Vec<CommentRow> = query.select(select).load(conn).await?;
            let more_before = rows.len() > limit;
            rows.truncate(limit);
            rows.reverse();
            let more_after = match (position, rows.last()) {
                (Position::Before(_), Some(last)) => {
                    let after = keyset("comments.created_at", "comments.id", Side::Above, cursor_of(last));
                    live_of(post)
                        .filter(after)
                        .select(comments::id)
                        .first::<CommentId>(conn)
                        .await
                        .optional()?
                        .is_some()
                }
                _ => false,
            };
            Ok(Page {
                prev: <[CommentRow]>::first(&rows).filter(|_| more_before).map(cursor_of),
                next: rows.last().filter(|_| more_after).map(cursor_of),
                rows,
                total_count,
            })
        }
    }
}

#[derive(QueryableByName)]
struct PostCount {
    #[diesel(sql_type = SqlUuid)]
    post_id: Uuid,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// The first page of live comments of each post at once — what `recentComments` holds. Its two
/// statements are pipelined: one round trip.
pub async fn first_pages(
    conn: &AsyncPgConnection,
    posts: &[PostId],
    limit: usize,
) -> QueryResult<HashMap<PostId, Page<CommentRow>>> {
    if posts.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<Uuid> = posts.iter().map(|p| p.0).collect();
    let (mut counting, mut reading) = (conn, conn);
    let (counts, rows) = futures_util::future::join(
        prepared("SELECT post_id, comments AS count FROM post_counts WHERE post_id = ANY($1) AND comments > 0")
            .bind::<Array<SqlUuid>, _>(&ids)
            .load::<PostCount>(&mut counting),
        prepared(
            "SELECT c.* FROM unnest($1::uuid[]) AS p(id) CROSS JOIN LATERAL ( \
                 SELECT * FROM comments WHERE post_id = p.id AND removed_at IS NULL \
                 ORDER BY created_at, id LIMIT $2) c",
        )
        .bind::<Array<SqlUuid>, _>(&ids)
        .bind::<Integer, _>(i32::try_from(limit + 1).unwrap_or(i32::MAX))
        .load::<CommentRow>(&mut reading),
    )
    .await;
    let (counts, rows) = (counts?, rows?);

    let totals: HashMap<Uuid, i64> = counts.into_iter().map(|c| (c.post_id, c.count)).collect();
    let mut grouped: HashMap<PostId, Vec<CommentRow>> = posts.iter().map(|p| (*p, Vec::new())).collect();
    for row in rows {
        if let Some(post) = row.post_id {
            grouped.entry(post).or_default().push(row);
        }
    }
    Ok(grouped
        .into_iter()
        .map(|(post, mut rows)| {
            rows.sort_by_key(|c| (c.created_at, c.id));
            let total = totals.get(&post.0).copied().unwrap_or(0);
            (post, Page::from_overfetch(rows, limit, total, cursor_of))
        })
        .collect())
}
