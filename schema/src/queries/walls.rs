//! Wall versions (migration `wall_versions`): every write that changes what a wall's page shows
//! bumps its owner's version in the same transaction, so a page kept in memory is current
//! exactly while the version is unchanged.

use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::ids::UserId;
use crate::queries::prepared::prepared;

#[derive(diesel::QueryableByName)]
struct VersionRow {
    #[diesel(sql_type = BigInt)]
    version: i64,
}

/// The wall's version now (0 before its first write). Read it *before* the page it tags: a write
/// that commits in between leaves the tag older than the page, which only costs a reread.
pub async fn version(conn: &AsyncPgConnection, owner: UserId) -> QueryResult<i64> {
    let mut conn = conn;
    Ok(prepared("SELECT coalesce((SELECT version FROM wall_versions WHERE owner_id = $1), 0) AS version")
        .bind::<SqlUuid, _>(owner.0)
        .get_result::<VersionRow>(&mut conn)
        .await?
        .version)
}

/// A wall's version and, in the same snapshot, which of `posts` and `comments` the viewer likes.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct VersionAndLikes {
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Array<SqlUuid>)]
    pub liked_posts: Vec<Uuid>,
    #[diesel(sql_type = Array<SqlUuid>)]
    pub liked_comments: Vec<Uuid>,
}

/// What a cached page of `owner`'s wall needs from the database for `viewer`: one statement.
pub async fn version_and_likes(
    conn: &AsyncPgConnection,
    owner: UserId,
    viewer: UserId,
    posts: &[Uuid],
    comments: &[Uuid],
) -> QueryResult<VersionAndLikes> {
    let mut conn = conn;
    prepared(
        "SELECT coalesce((SELECT version FROM wall_versions WHERE owner_id = $1), 0) AS version, \
             ARRAY(SELECT post_id FROM post_likes WHERE user_id = $2 AND post_id = ANY($3)) AS liked_posts, \
             ARRAY(SELECT comment_id FROM comment_likes WHERE user_id = $4 AND comment_id = ANY($5)) \
                 AS liked_comments",
    )
    .bind::<SqlUuid, _>(owner.0)
    .bind::<SqlUuid, _>(viewer.0)
    .bind::<Array<SqlUuid>, _>(posts)
    .bind::<SqlUuid, _>(viewer.0)
    .bind::<Array<SqlUuid>, _>(comments)
    .get_result(&mut conn)
    .await
}
