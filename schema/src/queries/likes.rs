//! Likes of posts and of comments. Both tables have the same shape (`<target>_id`, `user_id`,
//! `seq`, `liked_at`), so one implementation serves both through [`Likes`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::ids::UserId;
use crate::queries::prepared::prepared;

/// Which likes: of posts or of comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Likes {
    Posts,
    Comments,
}

impl Likes {
    fn table(self) -> &'static str {
        match self {
            Self::Posts => "post_likes",
            Self::Comments => "comment_likes",
        }
    }
    /// Where each target's like count is kept (migration `counts`).
    fn counts(self) -> &'static str {
        match self {
            Self::Posts => "post_counts",
            Self::Comments => "comment_counts",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Self::Posts => "post_id",
            Self::Comments => "comment_id",
        }
    }
}

/// How many like a thing, whether the viewer does, and the first five who did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LikeSummary {
    pub count: i64,
    pub liked: bool,
    pub first_likers: Vec<UserId>,
}

/// How many first likers a summary carries (docs/API.md §2.4).
pub const SHOWN_LIKERS: i64 = 5;

#[derive(QueryableByName)]
struct Touched {
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code)]
    seq: i64,
}

/// Flips `user`'s like of `target` and returns the new state. Must run inside a transaction
/// (the caller's, which also holds the target): a transaction-scoped advisory lock on
/// `(table, target, user)` makes parallel toggles by the same person take turns, so each one
/// flips the state exactly once; toggles by different people do not wait for each other. The
/// primary key keeps one row at most whatever happens.
pub async fn toggle(
    conn: &mut AsyncPgConnection,
    likes: Likes,
    target: Uuid,
    user: UserId,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    let (table, key) = (likes.table(), likes.key());
    prepared("SELECT pg_advisory_xact_lock(hashtextextended($1 || $2::text || $3::text, 0))")
        .bind::<Text, _>(table)
        .bind::<SqlUuid, _>(target)
        .bind::<SqlUuid, _>(user.0)
        .execute(conn)
        .await?;
    let deleted: Vec<Touched> =
        prepared(format!("DELETE FROM {table} WHERE {key} = $1 AND user_id = $2 RETURNING seq"))
            .bind::<SqlUuid, _>(target)
            .bind::<SqlUuid, _>(user.0)
            .load(conn)
            .await?;
    if !deleted.is_empty() {
        return Ok(false);
    }
    prepared(format!("INSERT INTO {table} ({key}, user_id, liked_at) VALUES ($1, $2, $3)"))
        .bind::<SqlUuid, _>(target)
        .bind::<SqlUuid, _>(user.0)
        .bind::<Timestamptz, _>(at)
        .execute(conn)
        .await?;
    Ok(true)
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = SqlUuid)]
    target: Uuid,
    #[diesel(sql_type = BigInt)]
    count: i64,
    #[diesel(sql_type = Bool)]
    liked: bool,
}

#[derive(QueryableByName)]
struct LikerRow {
    #[diesel(sql_type = SqlUuid)]
    target: Uuid,
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
}

/// Like summaries of many targets at once, as seen by `viewer`. Targets nobody likes are absent.
/// Its two statements are pipelined: one round trip.
pub async fn summaries(
    conn: &AsyncPgConnection,
    likes: Likes,
    targets: &[Uuid],
    viewer: UserId,
) -> QueryResult<HashMap<Uuid, LikeSummary>> {
    if targets.is_empty() {
        return Ok(HashMap::new());
    }
    let (table, key, counts) = (likes.table(), likes.key(), likes.counts());
    let (mut counting, mut reading) = (conn, conn);
    let (counts, likers) = futures_util::future::join(
        prepared(format!(
            "SELECT c.{key} AS target, c.likes AS count, \
                 EXISTS (SELECT FROM {table} l WHERE l.{key} = c.{key} AND l.user_id = $1) AS liked \
             FROM {counts} c WHERE c.{key} = ANY($2) AND c.likes > 0"
        ))
        .bind::<SqlUuid, _>(viewer.0)
        .bind::<Array<SqlUuid>, _>(targets)
        .load::<CountRow>(&mut counting),
        prepared(format!(
            "SELECT t.id AS target, l.user_id FROM unnest($1::uuid[]) AS t(id) CROSS JOIN LATERAL ( \
                 SELECT user_id, seq FROM {table} WHERE {key} = t.id ORDER BY seq LIMIT {SHOWN_LIKERS}) l \
             ORDER BY t.id, l.seq"
        ))
        .bind::<Array<SqlUuid>, _>(targets)
        .load::<LikerRow>(&mut reading),
    )
    .await;
    let (counts, likers) = (counts?, likers?);

    let mut out: HashMap<Uuid, LikeSummary> = counts
        .into_iter()
        .map(|c| (c.target, LikeSummary { count: c.count, liked: c.liked, first_likers: Vec::new() }))
        .collect();
    for liker in likers {
        out.entry(liker.target).or_default().first_likers.push(UserId(liker.user_id));
    }
    Ok(out)
}
