use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::ids::UserId;
use crate::models::{Credentials, NewUser, UserRow};
use crate::paging::{Cursor, InvalidCursor};
use crate::queries::prepared::prepared;
use crate::schema::users;

diesel::define_sql_function!(fn lower(x: Text) -> Text);

pub async fn find(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table.find(id).select(UserRow::as_select()).first(conn).await.optional()
}

/// Several users at once, in no particular order.
pub async fn find_many(conn: &mut AsyncPgConnection, ids: &[UserId]) -> QueryResult<Vec<UserRow>> {
    users::table.filter(users::id.eq_any(ids)).select(UserRow::as_select()).load(conn).await
}

/// Nicks match regardless of case, like the unique index that guards them.
pub async fn credentials_by_nick(conn: &mut AsyncPgConnection, nick: &str) -> QueryResult<Option<Credentials>> {
    users::table
        .filter(lower(users::nick).eq(lower(nick)))
        .select((users::id, users::passhash))
        .first(conn)
        .await
        .optional()
}

pub async fn insert(conn: &mut AsyncPgConnection, user: &NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table).values(user).returning(UserRow::as_returning()).get_result(conn).await
}

/// The user's password hash (`None` for no such user).
pub async fn passhash(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Option<String>> {
    users::table.find(id).select(users::passhash).first(conn).await.optional()
}

pub async fn set_passhash(conn: &mut AsyncPgConnection, id: UserId, passhash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id)).set(users::passhash.eq(passhash)).execute(conn).await.map(drop)
}

/// Replaces the user's avatar and returns the key prefix of the one it replaced. Locks the row:
/// concurrent uploads by one user replace each other in turn, and each deletes its predecessor.
pub async fn replace_avatar(
    conn: &mut AsyncPgConnection,
    id: UserId,
    url: &str,
    key: &str,
    at: DateTime<Utc>,
) -> QueryResult<Option<Option<String>>> {
    let previous: Option<Option<String>> =
        users::table.find(id).select(users::avatar_key).for_update().first(conn).await.optional()?;
    if previous.is_some() {
        diesel::update(users::table.find(id))
            .set((users::avatar_url.eq(url), users::avatar_key.eq(key), users::avatar_updated_at.eq(at)))
            .execute(conn)
            .await?;
    }
    Ok(previous)
}

/// Activity only moves forward, whichever node or session reports it last. Rows are locked in
/// key order, as every write of many users' rows locks them (a crowd's session write, presence
/// claims), so that two of them wait for each other instead of deadlocking.
pub async fn record_activity(conn: &mut AsyncPgConnection, ids: &[UserId], at: DateTime<Utc>) -> QueryResult<()> {
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
    prepared(
        "WITH locked AS (SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE) \
         UPDATE users SET last_activity_at = GREATEST(users.last_activity_at, $2) \
         FROM locked WHERE users.id = locked.id",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await
    .map(drop)
}

/// How close a found person is to the one searching: the sections of a search's results, in
/// the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Closeness {
    Friend = 1,
    FriendOfFriend = 2,
    Other = 3,
}

/// Where the next page of a search starts: after the person `at` names, in `closeness`'s
/// section. On the wire `"<uuid>/<time>"` in the last section, as every other list's cursor,
/// and `"<uuid>/<time>/1"` or `"…/2"` among friends or friends of friends (API.md §3): the
/// section is part of the position, so a page resumes in the right one even if the person at
/// the cursor stopped being a friend meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor {
    pub closeness: Closeness,
    pub at: Cursor,
}

impl SearchCursor {
    pub fn parse(s: &str) -> Result<Self, InvalidCursor> {
        let (base, closeness) = match s.matches('/').count() {
            1 => (s, Closeness::Other),
            2 => match s.rsplit_once('/') {
                Some((base, "1")) => (base, Closeness::Friend),
                Some((base, "2")) => (base, Closeness::FriendOfFriend),
                _ => return Err(InvalidCursor),
            },
            _ => return Err(InvalidCursor),
        };
        Ok(Self { closeness, at: Cursor::parse(base)? })
    }
}

impl fmt::Display for SearchCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.closeness {
            Closeness::Other => write!(f, "{}", self.at),
            section => write!(f, "{}/{}", self.at, section as i16),
        }
    }
}

/// A page of search results. `total_count` is exact up to [`SEARCH_COUNT_CAP`] and the cap
/// beyond it.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub rows: Vec<UserRow>,
    pub total_count: i64,
    pub next: Option<SearchCursor>,
}

/// Matches counted, at most: counting 100,000 "Anna"s exactly would read 100,000 rows on every
/// keystroke.
pub const SEARCH_COUNT_CAP: i64 = 1000;

/// How many of the newest matches are looked at for friends of friends. Each costs reading all of
/// the candidate's friendships (two index ranges), so the window bounds the work per page
/// whatever the text; BENCHMARKS.md ("People search at a million people") has what it costs.
pub const SEARCH_FOF_WINDOW: i64 = 200;

/// One row of the search statement: a user, their section and the (capped) number of matches.
#[derive(QueryableByName)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
struct SearchHit {
    #[diesel(sql_type = SmallInt)]
    section: i16,
    #[diesel(sql_type = BigInt)]
    matches: i64,
    /// The keyset time: the friendship's in section 1, the registration's in the others.
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
    id: UserId,
    first_name: String,
    last_name: String,
    nick: String,
    created_at: DateTime<Utc>,
    avatar_url: String,
    avatar_updated_at: Option<DateTime<Utc>>,
    last_activity_at: DateTime<Utc>,
}

/// The search statement (API.md §5.2). Parameters: $1 the text as typed, $2 the caller, $3 the
/// cursor's section (0: first page), $4 and $5 the cursor's time and id, $6 rows wanted.
///
/// Matching: `user_search.search_key` (" first last nick" folded to Latin by `user_search_fold`,
/// kept by triggers on `users`) `LIKE user_search_pattern($1)`, which folds the text with the
/// same function — the application never folds, so key and text cannot disagree. Every index
/// of `user_search` carries the key, so matching never reads a table row. The trigram index
/// answers rare texts; for common ones the planner walks `user_search_newest_idx` newest first
/// and stops after a page. That choice depends on the pattern, so the statement is sent with
/// `sql_query` — never cached as a prepared statement — and planned for each text: a generic
/// plan, blind to the pattern, would walk everyone for a rare name.
///
/// A text of two words or more (`user_search_pair_route` says which) is matched from the key's
/// consecutive word pairs instead (`pair_matches`): for each word ending with the text's first
/// word (`user_search_words`, by its reversed spelling), the range of pairs that word starts with
/// the text's second word as the start of its own, each rechecked with the whole pattern from
/// the index entry. That finds every match (migration `user_search_pairs` says why), and only
/// the matches, where the trigram index would intersect the long lists of common names'
/// trigrams. `pair_matches` holds every match, so friends are picked from it (`s1_pairs`) and
/// the rest past the newest thousand too (`s3_pairs`); `s1_few` and the `_many` sections are
/// the trigram route's (`s3_few` reads `matched`, which either route fills), and each route's
/// sections are cut off by the planner for the other.
///
/// Sections:
/// 1. friends, the most recent friendship first (the time the friendship was asked for), then
///    id. When `matched` holds every match, the friends among them; otherwise the caller's
///    friends in that order, each looked up by key until the page is full — a few hundred
///    index probes for a common name, never more than the caller has friends, and never a
///    walk of the matches, which may be a hundred thousand (`OFFSET 0` keeps each lookup a
///    probe of its own: as a join, the planner may fetch every match to hash it instead);
/// 2. friends of friends among the [`SEARCH_FOF_WINDOW`] newest matches — people with an accepted
///    friendship to one of the caller's friends, except the caller and the caller's friends.
///    Looked for from those candidates (`links`: their friendships in either direction, read
///    from the key indexes alone, that reach one of the caller's friends — each checked in a
///    hash of the friends: as a join, the planner sorted the thousands of friendships to merge
///    them), never by expanding the friends' friends, which may be a million; only the few
///    pairs found are then checked
///    for being accepted, each by a probe of the pending requests' index (`OFFSET 0`: as an
///    anti-join, the planner may scan that whole index instead), so the table's rows are never
///    read; newest registration first;
/// 3. everyone else who matches, the caller included; newest registration first.
///
/// `matched` holds the newest `SEARCH_COUNT_CAP` matches: it gives totalCount and the
/// friends-of-friends window, and, being the newest stretch of the list, the first rows of
/// section 3 (`s3_few`). Only when it cannot fill the page and does not hold every match (it is
/// full) is the table searched again (`s3_many`), from the same cursor: the `_few` rows are then
/// a prefix of the `_many` ones, and `UNION` drops the repeats. So the first pages of a text
/// such as "mariya ivanova" cost one trigram-index scan instead of three, and each scan of a
/// text made of common trigrams costs milliseconds even when nothing matches.
///
/// A section only runs when the ones before it left the page short (the one-time filters on
/// `sN`), so the friends-of-friends work is not done while friends fill the page. The keyset
/// is (section, at desc, id desc), `at` being the friendship's time in section 1 and the
/// registration in the others: a cursor in section k skips sections before k and the rows of k
/// up to it; `$3 < k` makes the whole section start. The users' columns are read for the
/// page's rows only.
const SEARCH_SQL: &str = "\
WITH friends AS MATERIALIZED (
    SELECT responder_id AS id, created_at AS since FROM friendship_requests WHERE requester_id = $2 AND accepted
    UNION ALL
    SELECT requester_id, created_at FROM friendship_requests WHERE responder_id = $2 AND accepted
), pair_matches AS MATERIALIZED (
    SELECT DISTINCT p.user_id AS id, p.created_at
    FROM user_search_words w
    CROSS JOIN LATERAL (
        SELECT p.user_id, p.created_at FROM user_search_pairs p
        WHERE p.pair >= (w.word || ' ' || (user_search_pair_route($1))[2]) COLLATE \"C\"
          AND p.pair < (w.word || ' ' || (user_search_pair_route($1))[2] || chr(1114111)) COLLATE \"C\"
          AND p.search_key LIKE user_search_pattern($1)
    ) p
    WHERE user_search_pair_route($1) IS NOT NULL
      AND reverse(w.word) LIKE user_search_prefix_pattern(reverse((user_search_pair_route($1))[1])) COLLATE \"C\"
), matched AS MATERIALIZED (
    (SELECT user_id AS id, created_at FROM user_search
     WHERE user_search_pair_route($1) IS NULL AND search_key LIKE user_search_pattern($1)
     ORDER BY created_at DESC, user_id DESC LIMIT 1000)
    UNION ALL
    (SELECT id, created_at FROM pair_matches ORDER BY created_at DESC, id DESC LIMIT 1000)
), newest AS MATERIALIZED (
    SELECT id FROM matched ORDER BY created_at DESC, id DESC LIMIT 200
), links AS MATERIALIZED (
    SELECT c.id, c.requester_id, c.responder_id FROM (
        SELECT n.id, r.responder_id AS other, r.requester_id, r.responder_id
        FROM newest n JOIN friendship_requests r ON r.requester_id = n.id
        UNION ALL
        SELECT n.id, r.requester_id, r.requester_id, r.responder_id
        FROM newest n JOIN friendship_requests r ON r.responder_id = n.id
    ) c
    WHERE c.other IN (SELECT id FROM friends) AND c.id <> $2 AND c.id NOT IN (SELECT id FROM friends)
), fof AS MATERIALIZED (
    SELECT DISTINCT l.id FROM links l
    WHERE NOT EXISTS (
        SELECT FROM friendship_requests p
        WHERE p.requester_id = l.requester_id AND p.responder_id = l.responder_id AND NOT p.accepted OFFSET 0)
), s1_few AS MATERIALIZED (
    SELECT f.id, f.since AS at FROM matched m JOIN friends f ON f.id = m.id
    WHERE $3 <= 1 AND (SELECT count(*) FROM matched) < 1000 AND user_search_pair_route($1) IS NULL
      AND ($3 < 1 OR (f.since, f.id) < ($4, $5))
    ORDER BY f.since DESC, f.id DESC LIMIT $6
), s1_pairs AS MATERIALIZED (
    SELECT f.id, f.since AS at FROM pair_matches m JOIN friends f ON f.id = m.id
    WHERE $3 <= 1 AND user_search_pair_route($1) IS NOT NULL
      AND ($3 < 1 OR (f.since, f.id) < ($4, $5))
    ORDER BY f.since DESC, f.id DESC LIMIT $6
), s1_many AS MATERIALIZED (
    SELECT f.id, f.since AS at
    FROM (SELECT id, since FROM friends WHERE $3 < 1 OR (since, id) < ($4, $5) ORDER BY since DESC, id DESC) f
    WHERE $3 <= 1 AND (SELECT count(*) FROM matched) >= 1000 AND user_search_pair_route($1) IS NULL
      AND EXISTS (
          SELECT FROM user_search u WHERE u.user_id = f.id AND u.search_key LIKE user_search_pattern($1) OFFSET 0)
    ORDER BY f.since DESC, f.id DESC LIMIT $6
), s2 AS MATERIALIZED (
    SELECT u.user_id AS id, u.created_at AS at FROM user_search u
    WHERE $3 <= 2 AND (SELECT count(*) FROM s1_few) + (SELECT count(*) FROM s1_pairs) + (SELECT count(*) FROM s1_many) < $6
      AND u.user_id IN (SELECT id FROM fof)
      AND ($3 < 2 OR (u.created_at, u.user_id) < ($4, $5))
    ORDER BY u.created_at DESC, u.user_id DESC LIMIT $6
), s3_few AS MATERIALIZED (
    SELECT m.id, m.created_at AS at FROM matched m
    WHERE (SELECT count(*) FROM s1_few) + (SELECT count(*) FROM s1_pairs) + (SELECT count(*) FROM s1_many) + (SELECT count(*) FROM s2) < $6
      AND m.id NOT IN (SELECT id FROM friends) AND m.id NOT IN (SELECT id FROM fof)
      AND ($3 < 3 OR (m.created_at, m.id) < ($4, $5))
    ORDER BY m.created_at DESC, m.id DESC LIMIT $6
), s3_pairs AS MATERIALIZED (
    SELECT m.id, m.created_at AS at FROM pair_matches m
    WHERE (SELECT count(*) FROM matched) >= 1000
      AND (SELECT count(*) FROM s1_few) + (SELECT count(*) FROM s1_pairs) + (SELECT count(*) FROM s1_many)
          + (SELECT count(*) FROM s2) + (SELECT count(*) FROM s3_few) < $6
      AND m.id NOT IN (SELECT id FROM friends) AND m.id NOT IN (SELECT id FROM fof)
      AND ($3 < 3 OR (m.created_at, m.id) < ($4, $5))
    ORDER BY m.created_at DESC, m.id DESC LIMIT $6
), s3_many AS MATERIALIZED (
    SELECT u.user_id AS id, u.created_at AS at FROM user_search u
    WHERE (SELECT count(*) FROM matched) >= 1000 AND user_search_pair_route($1) IS NULL
      AND (SELECT count(*) FROM s1_few) + (SELECT count(*) FROM s1_pairs) + (SELECT count(*) FROM s1_many)
          + (SELECT count(*) FROM s2) + (SELECT count(*) FROM s3_few) < $6
      AND u.search_key LIKE user_search_pattern($1)
      AND u.user_id NOT IN (SELECT id FROM friends) AND u.user_id NOT IN (SELECT id FROM fof)
      AND ($3 < 3 OR (u.created_at, u.user_id) < ($4, $5))
    ORDER BY u.created_at DESC, u.user_id DESC LIMIT $6
), page AS (
    SELECT 1::smallint AS section, id, at FROM s1_few
    UNION ALL SELECT 1::smallint, id, at FROM s1_pairs
    UNION ALL SELECT 1::smallint, id, at FROM s1_many
    UNION ALL SELECT 2::smallint, id, at FROM s2
    UNION ALL (SELECT 3::smallint, id, at FROM s3_few
               UNION SELECT 3::smallint, id, at FROM s3_pairs
               UNION SELECT 3::smallint, id, at FROM s3_many)
    ORDER BY 1, 3 DESC, 2 DESC LIMIT $6
)
SELECT page.section, page.at, u.id, u.first_name, u.last_name, u.nick, u.created_at, u.avatar_url,
       u.avatar_updated_at, u.last_activity_at, (SELECT count(*) FROM matched) AS matches
FROM page JOIN users u ON u.id = page.id
ORDER BY page.section, page.at DESC, page.id DESC";

/// How many people match, up to the cap; for a page past the last match.
const SEARCH_COUNT_SQL: &str = "\
SELECT count(*) AS matches FROM (
    SELECT FROM user_search WHERE search_key LIKE user_search_pattern($1) LIMIT 1000
) matched";

#[derive(QueryableByName)]
struct Matches {
    #[diesel(sql_type = BigInt)]
    matches: i64,
}

/// People whose name or nick contains `text` in either alphabet: the caller's friends first,
/// then friends of friends, then everyone else (see [`SEARCH_SQL`]). An empty or blank text
/// finds nobody.
pub async fn search(
    conn: &mut AsyncPgConnection,
    caller: UserId,
    text: &str,
    after: Option<SearchCursor>,
    limit: usize,
) -> QueryResult<SearchPage> {
    if text.trim().is_empty() {
        return Ok(SearchPage { rows: Vec::new(), total_count: 0, next: None });
    }
    let wanted = i32::try_from(limit + 1).unwrap_or(i32::MAX);
    let hits: Vec<SearchHit> = diesel::sql_query(SEARCH_SQL)
        .bind::<Text, _>(text)
        .bind::<SqlUuid, _>(caller)
        .bind::<SmallInt, _>(after.map_or(0, |c| c.closeness as i16))
        .bind::<Nullable<Timestamptz>, _>(after.map(|c| c.at.at))
        .bind::<Nullable<SqlUuid>, _>(after.map(|c| c.at.id))
        .bind::<Integer, _>(wanted)
        .load(conn)
        .await?;
    let total_count = match (hits.as_slice(), after) {
        ([hit, ..], _) => hit.matches,
        ([], None) => 0,
        ([], Some(_)) => {
            let count: Matches = diesel::sql_query(SEARCH_COUNT_SQL).bind::<Text, _>(text).get_result(conn).await?;
            count.matches
        }
    };
    let mut next = None;
    let mut rows = Vec::with_capacity(hits.len().min(limit));
    let more = hits.len() > limit;
    for hit in hits.into_iter().take(limit) {
        let closeness = match hit.section {
            1 => Closeness::Friend,
            2 => Closeness::FriendOfFriend,
            _ => Closeness::Other,
        };
        next = Some(SearchCursor { closeness, at: Cursor::new(hit.id.0, hit.at) });
        rows.push(UserRow {
            id: hit.id,
            first_name: hit.first_name,
            last_name: hit.last_name,
            nick: hit.nick,
            created_at: hit.created_at,
            avatar_url: hit.avatar_url,
            avatar_updated_at: hit.avatar_updated_at,
            last_activity_at: hit.last_activity_at,
        });
    }
    Ok(SearchPage { rows, total_count, next: if more { next } else { None } })
}

#[cfg(test)]
mod tests {
    use super::{Closeness, SearchCursor};

    #[test]
    fn search_cursors_carry_their_section() {
        let other = "37d28fdf-99bc-44b5-8df9-6a3b1a36f177/2024-02-16T15:36:38.123456Z";
        for (s, closeness) in [
            (other.to_owned(), Closeness::Other),
            (format!("{other}/1"), Closeness::Friend),
            (format!("{other}/2"), Closeness::FriendOfFriend),
        ] {
            let cursor = SearchCursor::parse(&s).unwrap();
            assert_eq!(cursor.closeness, closeness);
            assert_eq!(cursor.to_string(), s);
        }
        for bad in [format!("{other}/3"), format!("{other}/"), format!("{other}/1/1"), "nocursor".to_owned()] {
            assert!(SearchCursor::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_statements_cap_where_the_docs_say() {
        use super::{SEARCH_COUNT_CAP, SEARCH_COUNT_SQL, SEARCH_FOF_WINDOW, SEARCH_SQL};
        let matched = &SEARCH_SQL[SEARCH_SQL.find("matched AS").unwrap()..SEARCH_SQL.find("newest AS").unwrap()];
        // The `_many` sections rely on `matched` holding every match when it is not full.
        assert_eq!(SEARCH_SQL.matches(&format!("(SELECT count(*) FROM matched) >= {SEARCH_COUNT_CAP}")).count(), 3);
        let newest = &SEARCH_SQL[SEARCH_SQL.find("newest AS").unwrap()..SEARCH_SQL.find("fof AS").unwrap()];
        assert_eq!(matched.matches(&format!("LIMIT {SEARCH_COUNT_CAP})\n")).count(), 2, "{matched}");
        assert!(SEARCH_COUNT_SQL.contains(&format!("LIMIT {SEARCH_COUNT_CAP}\n")));
        assert!(newest.contains(&format!("LIMIT {SEARCH_FOF_WINDOW}\n")), "{newest}");
    }
}
