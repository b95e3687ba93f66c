//! The home feed (docs/API.md §5.8): live posts written by the viewer or by one of the viewer's
//! friends (an accepted request, either way), on whichever wall, newest first.
//!
//! Two ways to the same page (ARCHITECTURE.md, "News"):
//! - **kept** ([`kept_page`]): for a reader who reads their feed, the newest [`KEPT`] posts are
//!   copied into `feed_entries` when written ([`copy_posts`], after the post's commit, from the
//!   `feed_jobs` the post's insert queued); a page is one walk of the reader's rows.
//! - **built when read** ([`page`]): from each author's own newest-first index of live posts
//!   (`posts_author_live_idx`): every author gives at most a page of keys past the cursor, the
//!   newest page of all of them is kept, and only that page's rows are read. It answers every
//!   reader whose feed is not kept (yet), and every page past what is kept.
//!
//! Both cut pages by a keyset cursor, so a post written between two page requests never shows
//! twice; both skip removed posts when read; an ended friendship takes its author's rows out of
//! the kept feed in its own transaction (migration `stored_feeds`).

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::ids::{PostId, UserId};
use crate::models::PostRow;
use crate::paging::{Cursor, NewestFirst, Page};
use crate::queries::prepared::prepared;

/// Posts a kept feed holds at most (older ones are trimmed by the janitor and read by the
/// built-when-read path): twenty pages of twenty.
pub const KEPT: i64 = 400;

/// Rows a kept page reads: the largest page (docs/API.md §3: 20) and one to tell whether there
/// is more.
const KEPT_FETCH: usize = 21;

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

/// A page of `viewer`'s feed from `position`, built when read. Its total is `total_count` when
/// the caller knows it, else counted (from the counts the triggers keep, pipelined with the page:
/// one round trip) and capped at [`KEPT`] like a kept feed's.
pub async fn page(
    conn: &AsyncPgConnection,
    viewer: UserId,
    position: NewestFirst,
    limit: usize,
    total_count: Option<i64>,
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
    let counted = async {
        match total_count {
            Some(total) => Ok(total),
            None => diesel::sql_query(&count_sql)
                .bind::<SqlUuid, _>(viewer)
                .get_result::<Total>(&mut counting)
                .await
                .map(|t| t.total.min(KEPT)),
        }
    };
    let read = diesel::sql_query(&page_sql)
        .bind::<SqlUuid, _>(viewer)
        .bind::<Nullable<Timestamptz>, _>(cursor.map(|c| c.at))
        .bind::<Nullable<SqlUuid>, _>(cursor.map(|c| c.id))
        .bind::<Integer, _>(fetch)
        .load::<PostRow>(&mut reading);
    let (total_count, rows) = futures_util::future::join(counted, read).await;
    let (total_count, rows) = (total_count?, rows?);
    Ok(if older {
        Page::from_overfetch(rows, limit, total_count, cursor_of)
    } else {
        Page::from_newer_overfetch(rows, limit, total_count, cursor_of)
    })
}

/// One row of a kept page: the feed's horizon and total, then a post (none when the page is
/// empty).
#[derive(QueryableByName)]
struct KeptRow {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    horizon_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    horizon_id: Option<Uuid>,
    #[diesel(sql_type = Timestamptz)]
    read_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    author_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    owner_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    message: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    created_at: Option<DateTime<Utc>>,
}

impl KeptRow {
    fn post(self) -> Option<PostRow> {
        Some(PostRow {
            id: PostId(self.id?),
            author_id: UserId(self.author_id?),
            owner_id: UserId(self.owner_id?),
            message: self.message?,
            created_at: self.created_at?,
            removed_at: None,
        })
    }
}

/// The reader's kept feed as one statement, so that a janitor dropping it never leaves a page
/// that sees the feed but not its rows: a row per post of the page, each with the feed's horizon
/// and total, or one row with no post for an empty page; no row when the feed is not kept and
/// built. `$1` the reader, then the cursor if any; `$LIMIT` and `$KEPT` stand for constants
/// ([`KEPT_FETCH`], [`KEPT`]) written into the text.
///
/// The total is the live posts kept, at most [`KEPT`]; a feed trimmed to its horizon has had
/// more than that, so it is [`KEPT`] (docs/API.md §5.8: "400 or more").
fn kept_sql(position: &NewestFirst) -> &'static str {
    macro_rules! kept {
        ($cursor:literal, $order:literal) => {
            concat!(
                "WITH kept AS MATERIALIZED (
    SELECT viewer_id, horizon_at, horizon_id, read_at FROM feeds WHERE viewer_id = $1 AND ready
), page AS (
    SELECT p.id, p.author_id, p.owner_id, p.message, p.created_at
    FROM feed_entries e JOIN posts p ON p.id = e.post_id AND p.removed_at IS NULL
    WHERE e.viewer_id = (SELECT viewer_id FROM kept) ",
                $cursor,
                "
      AND EXISTS (SELECT FROM kept)
      AND ((SELECT horizon_at FROM kept) IS NULL
           OR (e.created_at, e.post_id) >= (SELECT horizon_at, horizon_id FROM kept))
    ORDER BY e.created_at ",
                $order,
                ", e.post_id ",
                $order,
                " LIMIT $LIMIT
)
SELECT CASE WHEN k.horizon_at IS NULL THEN (
           SELECT count(*) FROM (
               SELECT FROM feed_entries e JOIN posts p ON p.id = e.post_id AND p.removed_at IS NULL
               WHERE e.viewer_id = k.viewer_id LIMIT $KEPT) c)
       ELSE $KEPT END AS total,
       k.horizon_at, k.horizon_id, k.read_at, page.id, page.author_id, page.owner_id, page.message, page.created_at
FROM kept k LEFT JOIN page ON true
ORDER BY page.created_at ",
                $order,
                ", page.id ",
                $order
            )
        };
    }
    match position {
        NewestFirst::Newest => kept!("", "DESC"),
        NewestFirst::Older(_) => kept!("AND (e.created_at, e.post_id) < ($2, $3)", "DESC"),
        NewestFirst::Newer(_) => kept!("AND (e.created_at, e.post_id) > ($2, $3)", "ASC"),
    }
}

/// What the kept feed says of a page.
pub enum Kept {
    /// Not kept, or not built yet: the page is built when read ([`page`]).
    Absent,
    /// Kept, but the page reaches past what it holds: built when read, with this total.
    Short { total_count: i64 },
    /// The page, and when the reader last read (so that the caller marks the feed read again).
    Page { page: Page<PostRow>, read_at: DateTime<Utc> },
}

/// A page of `viewer`'s kept feed, with its total, in one statement.
pub async fn kept_page(
    conn: &mut AsyncPgConnection,
    viewer: UserId,
    position: NewestFirst,
    limit: usize,
) -> QueryResult<Kept> {
    if limit + 1 > KEPT_FETCH {
        // Larger than any page the doors ask for: built when read, like an unkept feed.
        return Ok(Kept::Absent);
    }
    // The rows fetched are a constant of the statement's text, not a parameter: with the page
    // size bound, PostgreSQL planned the statement anew for every request (a custom plan, its
    // planning dearer than its execution); with none, it keeps one plan per connection.
    let sql = kept_sql(&position).replace("$KEPT", &KEPT.to_string()).replace("$LIMIT", &KEPT_FETCH.to_string());
    let mut rows = match position {
        NewestFirst::Newest => prepared(sql).bind::<SqlUuid, _>(viewer).load::<KeptRow>(conn).await?,
        NewestFirst::Older(c) | NewestFirst::Newer(c) => {
            prepared(sql)
                .bind::<SqlUuid, _>(viewer)
                .bind::<Timestamptz, _>(c.at)
                .bind::<SqlUuid, _>(c.id)
                .load::<KeptRow>(conn)
                .await?
        }
    };
    rows.truncate(limit + 1);
    let Some(first) = rows.as_slice().first() else {
        return Ok(Kept::Absent);
    };
    let (read_at, total_count) = (first.read_at, first.total);
    let horizon = first.horizon_at.zip(first.horizon_id).map(|(at, id)| Cursor { id, at });
    let posts: Vec<PostRow> = rows.into_iter().filter_map(KeptRow::post).collect();
    let whole = match (&position, horizon) {
        (_, None) => true,
        // Older pages: whole when a row past the page proves the page did not reach the horizon.
        (NewestFirst::Newest | NewestFirst::Older(_), Some(_)) => posts.len() > limit,
        // Newer pages run up from the cursor: whole when the cursor is at or above the horizon.
        (NewestFirst::Newer(c), Some(h)) => (c.at, c.id) >= (h.at, h.id),
    };
    if !whole {
        return Ok(Kept::Short { total_count });
    }
    let page = match position {
        NewestFirst::Newer(_) => Page::from_newer_overfetch(posts, limit, total_count, cursor_of),
        _ => Page::from_overfetch(posts, limit, total_count, cursor_of),
    };
    Ok(Kept::Page { page, read_at })
}

/// Asks for `viewer`'s feed to be kept from now on (built by [`build_one`]), or marks a kept
/// one read at `now`. Answers whether a build is waiting.
pub async fn keep(conn: &mut AsyncPgConnection, viewer: UserId, now: DateTime<Utc>) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        waiting: bool,
    }
    let row = prepared(
        "INSERT INTO feeds (viewer_id, read_at) VALUES ($1, $2) \
         ON CONFLICT (viewer_id) DO UPDATE SET read_at = EXCLUDED.read_at \
         RETURNING NOT ready AS waiting",
    )
    .bind::<SqlUuid, _>(viewer)
    .bind::<Timestamptz, _>(now)
    .get_result::<Waiting>(conn)
    .await?;
    Ok(row.waiting)
}

/// A post copied into kept feeds, and whose feeds got it.
pub struct CopiedPost {
    pub id: PostId,
    pub author_id: UserId,
    pub owner_id: UserId,
    pub created_at: DateTime<Utc>,
    /// The readers whose kept feeds it went into, the author among them if theirs is kept.
    pub readers: Vec<UserId>,
}

/// Copies up to `batch` waiting posts into the kept feeds of their authors and the authors'
/// friends; the posts' jobs go with them. Answers the posts taken (removed ones too, copied to
/// no one). Call it in a transaction.
pub async fn copy_posts(conn: &mut AsyncPgConnection, batch: i64) -> QueryResult<Vec<CopiedPost>> {
    #[derive(QueryableByName)]
    struct Job {
        #[diesel(sql_type = SqlUuid)]
        post_id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        author_id: Uuid,
    }
    #[derive(QueryableByName)]
    struct Copy {
        #[diesel(sql_type = SqlUuid)]
        viewer_id: Uuid,
        #[diesel(sql_type = SqlUuid)]
        post_id: Uuid,
    }
    let jobs: Vec<Job> = prepared(
        "SELECT post_id, author_id FROM feed_jobs ORDER BY queued_at, post_id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind::<BigInt, _>(batch)
    .load(conn)
    .await?;
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let posts: Vec<Uuid> = jobs.iter().map(|j| j.post_id).collect();
    let authors: Vec<Uuid> = jobs.iter().map(|j| j.author_id).collect();
    // After any friendship change of the authors that is under way (migration `stored_feeds`),
    // and so that none starts before these copies commit.
    prepared(
        "SELECT pg_advisory_xact_lock_shared(9187, s) \
         FROM (SELECT DISTINCT feed_stripe(a) AS s FROM unnest($1::uuid[]) a) d ORDER BY s",
    )
    .bind::<Array<SqlUuid>, _>(&authors)
    .execute(conn)
    .await?;
    let copies: Vec<Copy> = prepared(
        "INSERT INTO feed_entries (viewer_id, created_at, post_id, author_id) \
         SELECT f.viewer_id, p.created_at, p.id, p.author_id \
         FROM posts p \
         CROSS JOIN LATERAL ( \
             SELECT p.author_id AS id \
             UNION ALL SELECT responder_id FROM friendship_requests WHERE requester_id = p.author_id AND accepted \
             UNION ALL SELECT requester_id FROM friendship_requests WHERE responder_id = p.author_id AND accepted \
         ) r \
         JOIN feeds f ON f.viewer_id = r.id \
         WHERE p.id = ANY($1) AND p.removed_at IS NULL \
         ON CONFLICT DO NOTHING \
         RETURNING viewer_id, post_id",
    )
    .bind::<Array<SqlUuid>, _>(&posts)
    .load(conn)
    .await?;
    // Every job taken goes; the posts of those whose post still exists come back (one deleted
    // with its author only goes).
    let rows: Vec<PostRow> = prepared(
        "WITH done AS (DELETE FROM feed_jobs WHERE post_id = ANY($1) RETURNING post_id) \
         SELECT p.id, p.author_id, p.owner_id, p.message, p.created_at, p.removed_at \
         FROM done JOIN posts p ON p.id = done.post_id",
    )
    .bind::<Array<SqlUuid>, _>(&posts)
    .load(conn)
    .await?;
    let mut readers: std::collections::HashMap<Uuid, Vec<UserId>> = std::collections::HashMap::new();
    for copy in copies {
        readers.entry(copy.post_id).or_default().push(UserId(copy.viewer_id));
    }
    Ok(rows
        .into_iter()
        .map(|p| CopiedPost {
            readers: readers.remove(&p.id.0).unwrap_or_default(),
            id: p.id,
            author_id: p.author_id,
            owner_id: p.owner_id,
            created_at: p.created_at,
        })
        .collect())
}

/// Builds one feed waiting to be kept: its [`KEPT`] newest posts, read the way [`page`] reads
/// them, and the horizon below them. Answers whether there was one. Call it in a transaction.
///
/// The feed's row was committed before this runs, so every post copied since is already in it
/// or is newer than this statement's snapshot sees; rows left by an earlier keeping of the same
/// feed are replaced.
pub async fn build_one(conn: &mut AsyncPgConnection) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = SqlUuid)]
        viewer_id: Uuid,
    }
    let Some(waiting) =
        prepared("SELECT viewer_id FROM feeds WHERE NOT ready ORDER BY read_at LIMIT 1 FOR UPDATE SKIP LOCKED")
            .get_result::<Waiting>(conn)
            .await
            .optional()?
    else {
        return Ok(false);
    };
    let viewer = waiting.viewer_id;
    prepared("SELECT pg_advisory_xact_lock_shared(9187, feed_stripe($1))")
        .bind::<SqlUuid, _>(viewer)
        .execute(conn)
        .await?;
    prepared("DELETE FROM feed_entries WHERE viewer_id = $1").bind::<SqlUuid, _>(viewer).execute(conn).await?;
    let sql = format!(
        "{AUTHORS}, newest AS MATERIALIZED (
    SELECT p.id, p.created_at, p.author_id FROM authors a CROSS JOIN LATERAL (
        SELECT id, created_at, author_id FROM posts
        WHERE author_id = a.id AND removed_at IS NULL
        ORDER BY created_at DESC, id DESC LIMIT {KEPT}
    ) p
    ORDER BY p.created_at DESC, p.id DESC LIMIT {KEPT}
), copied AS (
    INSERT INTO feed_entries (viewer_id, created_at, post_id, author_id)
    SELECT $1, created_at, id, author_id FROM newest
    ON CONFLICT DO NOTHING
), last AS (
    SELECT created_at, id FROM newest ORDER BY created_at, id LIMIT 1
)
UPDATE feeds SET ready = true,
    horizon_at = CASE WHEN (SELECT count(*) FROM newest) >= {KEPT} THEN (SELECT created_at FROM last) END,
    horizon_id = CASE WHEN (SELECT count(*) FROM newest) >= {KEPT} THEN (SELECT id FROM last) END
WHERE viewer_id = $1"
    );
    // Rare next to reads and copies: sent as it is, not kept prepared.
    diesel::sql_query(sql).bind::<SqlUuid, _>(viewer).execute(conn).await?;
    Ok(true)
}

/// Trims up to `batch` kept feeds after `after` (by reader) to their [`KEPT`] newest rows,
/// raising each trimmed feed's horizon to its oldest row left. Answers the last reader looked
/// at (none: the end was reached).
pub async fn trim(conn: &mut AsyncPgConnection, after: Option<UserId>, batch: i64) -> QueryResult<Option<UserId>> {
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = Nullable<SqlUuid>)]
        last: Option<Uuid>,
    }
    let sql = format!(
        "WITH looked AS MATERIALIZED (
    SELECT viewer_id FROM feeds WHERE ready AND viewer_id > $1 ORDER BY viewer_id LIMIT $2
), cut AS MATERIALIZED (
    SELECT l.viewer_id, c.created_at, c.post_id FROM looked l
    CROSS JOIN LATERAL (
        SELECT created_at, post_id FROM feed_entries e WHERE e.viewer_id = l.viewer_id
        ORDER BY created_at DESC, post_id DESC OFFSET {KEPT} - 1 LIMIT 1
    ) c
    WHERE EXISTS (
        SELECT FROM feed_entries e WHERE e.viewer_id = l.viewer_id
          AND (e.created_at, e.post_id) < (c.created_at, c.post_id))
), gone AS (
    DELETE FROM feed_entries e USING cut
    WHERE e.viewer_id = cut.viewer_id AND (e.created_at, e.post_id) < (cut.created_at, cut.post_id)
), raised AS (
    UPDATE feeds f SET horizon_at = cut.created_at, horizon_id = cut.post_id FROM cut
    WHERE f.viewer_id = cut.viewer_id
      AND (f.horizon_at IS NULL OR (cut.created_at, cut.post_id) > (f.horizon_at, f.horizon_id))
)
SELECT CASE WHEN count(*) >= $3 THEN max(viewer_id::text)::uuid END AS last FROM looked"
    );
    let last = prepared(sql)
        .bind::<SqlUuid, _>(after.map_or(Uuid::nil(), |u| u.0))
        .bind::<BigInt, _>(batch)
        .bind::<BigInt, _>(batch)
        .get_result::<Last>(conn)
        .await?;
    Ok(last.last.map(UserId))
}

/// Stops keeping up to `batch` feeds not read since `before`: their rows go with them (the
/// reader's next visit builds the feed again). Answers how many.
pub async fn drop_unread(conn: &mut AsyncPgConnection, before: DateTime<Utc>, batch: i64) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Dropped {
        #[diesel(sql_type = BigInt)]
        feeds: i64,
    }
    let dropped = prepared(
        "WITH gone AS ( \
             DELETE FROM feeds WHERE viewer_id IN ( \
                 SELECT viewer_id FROM feeds WHERE read_at < $1 ORDER BY read_at LIMIT $2) \
             RETURNING viewer_id), \
         rows AS (DELETE FROM feed_entries e USING gone WHERE e.viewer_id = gone.viewer_id) \
         SELECT count(*) AS feeds FROM gone",
    )
    .bind::<Timestamptz, _>(before)
    .bind::<BigInt, _>(batch)
    .get_result::<Dropped>(conn)
    .await?;
    Ok(usize::try_from(dropped.feeds).unwrap_or(0))
}
