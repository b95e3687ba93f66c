use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::{PostId, UserId};
use crate::models::PostRow;
use crate::paging::{Cursor, Page};
use crate::queries::{Side, keyset};
use crate::schema::{posts, user_counts};

pub async fn insert(
    conn: &mut AsyncPgConnection,
    author: UserId,
    owner: UserId,
    message: &str,
    at: DateTime<Utc>,
) -> QueryResult<PostRow> {
    diesel::insert_into(posts::table)
        .values((
            posts::id.eq(PostId::new_random()),
            posts::author_id.eq(author),
            posts::owner_id.eq(owner),
            posts::message.eq(message),
            posts::created_at.eq(at),
        ))
        .returning(PostRow::as_returning())
        .get_result(conn)
        .await
}

/// A post that has not been removed.
pub async fn find_live(conn: &mut AsyncPgConnection, id: PostId) -> QueryResult<Option<PostRow>> {
    posts::table.find(id).filter(posts::removed_at.is_null()).select(PostRow::as_select()).first(conn).await.optional()
}

/// A live post, locked against removal until the transaction ends: whatever the caller adds to
/// it (a comment, a like) cannot land on a post removed meanwhile.
pub async fn find_live_for_share(conn: &mut AsyncPgConnection, id: PostId) -> QueryResult<Option<PostRow>> {
    posts::table
        .find(id)
        .filter(posts::removed_at.is_null())
        .select(PostRow::as_select())
        .for_share()
        .first(conn)
        .await
        .optional()
}

/// A live post, locked for the caller's update.
pub async fn find_live_for_update(conn: &mut AsyncPgConnection, id: PostId) -> QueryResult<Option<PostRow>> {
    posts::table
        .find(id)
        .filter(posts::removed_at.is_null())
        .select(PostRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Posts of any state, by id (to build the permissions of their comments).
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[PostId]) -> QueryResult<Vec<PostRow>> {
    posts::table.filter(posts::id.eq_any(ids)).select(PostRow::as_select()).load(conn).await
}

pub async fn mark_removed(conn: &mut AsyncPgConnection, id: PostId, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(posts::table.find(id)).set(posts::removed_at.eq(at)).execute(conn).await.map(drop)
}

/// Whose posts to list: on a wall, by an author, or both (AND).
#[derive(Debug, Clone, Copy)]
pub struct PostFilter {
    pub owner: Option<UserId>,
    pub author: Option<UserId>,
}

fn filtered(filter: PostFilter) -> posts::BoxedQuery<'static, diesel::pg::Pg> {
    let mut query = posts::table.filter(posts::removed_at.is_null()).into_boxed();
    if let Some(owner) = filter.owner {
        query = query.filter(posts::owner_id.eq(owner));
    }
    if let Some(author) = filter.author {
        query = query.filter(posts::author_id.eq(author));
    }
    query
}

/// How many live posts match: a wall's or an author's from the counts the triggers keep
/// (migration `counts`), read as one row; only the rare filter by both is counted row by row.
async fn live_count(conn: &mut &AsyncPgConnection, filter: PostFilter) -> QueryResult<i64> {
    let kept = match filter {
        PostFilter { owner: Some(owner), author: None } => {
            user_counts::table.find(owner).select(user_counts::wall_posts).into_boxed()
        }
        PostFilter { owner: None, author: Some(author) } => {
            user_counts::table.find(author).select(user_counts::authored_posts).into_boxed()
        }
        _ => return filtered(filter).select(count_star()).get_result::<i64>(conn).await,
    };
    Ok(kept.get_result::<i64>(conn).await.optional()?.unwrap_or(0))
}

/// Live posts, newest first. The count and the page are pipelined: one round trip.
pub async fn page(
    conn: &AsyncPgConnection,
    filter: PostFilter,
    after: Option<Cursor>,
    limit: usize,
) -> QueryResult<Page<PostRow>> {
    let mut query = filtered(filter)
        .order((posts::created_at.desc(), posts::id.desc()))
        .limit(i64::try_from(limit + 1).unwrap_or(i64::MAX));
    if let Some(cursor) = after {
        query = query.filter(keyset("posts.created_at", "posts.id", Side::Below, cursor));
    }
    let (mut counting, mut reading) = (conn, conn);
    let (total_count, rows) = futures_util::future::join(
        live_count(&mut counting, filter),
        query.select(PostRow::as_select()).load(&mut reading),
    )
    .await;
    let (total_count, rows) = (total_count?, rows?);
    Ok(Page::from_overfetch(rows, limit, total_count, |p| Cursor::new(p.id.0, p.created_at)))
}
