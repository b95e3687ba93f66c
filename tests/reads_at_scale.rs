//! Every read stays bounded on a big data set: the real binary serves `seed scale --people 50000`
//! while a client reads every list and page of the API and the web app as the people with the
//! most of everything (Anna: thousands of friends, a 5,000-post wall, hundreds of chats, one of
//! them long). What PostgreSQL itself counted for those requests must show no sequential scan of
//! a big table and a bounded number of rows read per request.
//!
//! PostgreSQL's own counters rather than `EXPLAIN` of statements copied here: they cover every
//! statement the server really sent, with the values it really bound, and a query added to a
//! read later is checked without anyone listing it. A backend adds its counts to the shared ones
//! when it ends, so the server is stopped (its connections end) before they are read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use support::server::{nosebook, serve};
use tokio_postgres::{Client, NoTls};

const PEOPLE: &str = "50000";
/// The tables that grow with the network; none may be read from end to end.
const BIG: [&str; 9] = [
    "users",
    "friendship_requests",
    "posts",
    "comments",
    "post_likes",
    "comment_likes",
    "chats",
    "chat_members",
    "messages",
];
/// Rows of the big tables one read may fetch, on average over the reads below. A page shows
/// tens of rows and a few of each around them; a scan of any big table here is tens of thousands.
const ROWS_PER_READ: f64 = 400.0;
/// And one people search: it reads the caller's friendships (5,000 for the most befriended person
/// here) and the newest of the matches (at most a thousand, docs/API.md §5.2) with the candidates
/// around them; bounded by a person's friends, not by the number of people. (Checking every
/// friend of a friend for a pending request by scanning the pending requests' index, which the
/// planner chose for texts of two words, read about 14,000 entries per search here.)
const ROWS_PER_SEARCH: f64 = 8_000.0;

async fn client(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Per big table: sequential scans, and rows read by them and index entries read (an
/// index-only scan reads no row of the table, yet a scan of a whole index is a scan all the same).
async fn table_reads(db: &Client) -> BTreeMap<String, (i64, i64)> {
    let rows = db
        .query(
            "SELECT t.relname::text, t.seq_scan, t.seq_tup_read + coalesce( \
                 (SELECT sum(i.idx_tup_read) FROM pg_stat_user_indexes i WHERE i.relid = t.relid), 0)::bigint \
             FROM pg_stat_user_tables t WHERE t.relname = ANY($1)",
            &[&BIG.to_vec()],
        )
        .await
        .unwrap();
    rows.iter().map(|r| (r.get(0), (r.get(1), r.get(2)))).collect()
}

/// Waits until no other connection to database `name` is left, so that what they read has
/// reached the shared counters.
async fn others_gone(db: &Client, name: &str) {
    for _ in 0..200 {
        let open: i64 = db
            .query_one("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", &[&name])
            .await
            .unwrap()
            .get(0);
        if open == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("connections to {name} stayed open");
}

async fn get(http: &reqwest::Client, url: &str, session: &str) -> Value {
    let response = http.get(url).header("X-Auth-Session-Id", session).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ok"], true, "{url}: {body}");
    body["data"].clone()
}

async fn page(http: &reqwest::Client, url: &str, cookie: &str) {
    let response = http.get(url).header("Cookie", cookie).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.text().await.unwrap();
}

#[tokio::test]
async fn every_read_on_fifty_thousand_people_uses_indexes_and_reads_a_bounded_number_of_rows() {
    let url = support::fresh_database().await;
    let seeded = nosebook(&["seed", "scale", "--people", PEOPLE], &url);
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    // The people and things to read, found on a connection of their own that ends before the
    // counts are taken: its own scans must not count.
    let db = client(&url).await;
    let one = |sql: &'static str| {
        let db = &db;
        async move { db.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get::<_, String>(0) }
    };
    let anna = one("SELECT id::text FROM users WHERE nick = 'anna'").await;
    let long_chat = one("SELECT m.chat_id::text FROM chat_counts m JOIN chat_members c USING (chat_id) \
         JOIN users u ON u.id = c.user_id WHERE u.nick = 'anna' ORDER BY m.messages DESC LIMIT 1")
    .await;
    let newest_post = one("SELECT p.id::text FROM posts p JOIN users u ON u.id = p.owner_id WHERE u.nick = 'anna' \
         ORDER BY p.created_at DESC LIMIT 1")
    .await;
    let liked_post = one("SELECT post_id::text FROM post_counts ORDER BY likes DESC LIMIT 1").await;
    let commented_post = one("SELECT post_id::text FROM post_counts ORDER BY comments DESC LIMIT 1").await;
    let popular = one("SELECT user_id::text FROM user_counts ORDER BY accepted_in + accepted_out DESC LIMIT 1").await;
    let popular_nick = db
        .query_one("SELECT nick FROM users WHERE id = $1::text::uuid", &[&popular])
        .await
        .unwrap()
        .get::<_, String>(0);

    rare_full_names_are_found_through_the_trigram_index(&db).await;
    drop(db);

    let people = [("anna".to_owned(), anna.clone()), (popular_nick, popular.clone())];
    // Every list and page: each shows tens of rows and a few of each around them.
    let lists = |me: &str| {
        let mut reads = vec![
            Read::Api(format!("/users/{anna}")),
            Read::Api("/users".to_owned()),
            Read::Api(format!("/posts?ownerId={anna}")),
            Read::Api(format!("/posts?authorId={anna}")),
            Read::Api(format!("/posts?ownerId={me}")),
            Read::Api(format!("/comments?postId={commented_post}")),
            Read::Api(format!("/comments?postId={newest_post}")),
            Read::Api(format!("/posts/{liked_post}")),
            Read::Api(format!("/friendship?userId={anna}&accepted=true")),
            Read::Api(format!("/friendship?userId={me}&accepted=true")),
            Read::Api(format!("/friendship?userId={me}&onlyIncoming")),
            Read::Api(format!("/friendship?userId={me}&onlyOutcoming")),
            Read::Api(format!(
                "/friendship/relation-between?sourceUserId={me}&targetUserIds={anna}&targetUserIds={popular}"
            )),
            Read::Api("/chats".to_owned()),
            Read::Page(format!("/app/users/{anna}")),
            Read::Page(format!("/app/users/{me}")),
            Read::Page("/app/friends".to_owned()),
            Read::Page("/app/friends?tab=incoming".to_owned()),
            Read::Page("/app/messenger".to_owned()),
            Read::Page("/app/messenger/badge".to_owned()),
            Read::Page("/app/friends/badge".to_owned()),
        ];
        // Anna's longest chat, in the API and the app.
        if me == anna {
            reads.push(Read::Api(format!("/messages?chatId={long_chat}")));
            reads.push(Read::Page(format!("/app/messenger/{long_chat}")));
        }
        reads
    };
    let (reads, per_read, report) = measure(&url, &people, lists).await;
    assert!(per_read <= ROWS_PER_READ, "{per_read:.0} rows per read over {reads} reads:\n{report}");
    println!("lists and pages: {reads} reads, {per_read:.0} rows per read:\n{report}");

    // People search: the caller's friends (at most thousands) and the newest matches, never
    // every match of a common name nor everyone's friends.
    let searches = |_: &str| {
        ["anna", "Анна", "ann", "an", "a", "ivan%20pet", "anna%20petrova", "zzzq"]
            .into_iter()
            .map(|text| Read::Api(format!("/users?text={text}")))
            .chain([Read::Page("/app/search?text=anna".to_owned())])
            .collect()
    };
    let (reads, per_read, report) = measure(&url, &people, searches).await;
    assert!(per_read <= ROWS_PER_SEARCH, "{per_read:.0} rows per search over {reads} searches:\n{report}");
    println!("people search: {reads} reads, {per_read:.0} rows per read:\n{report}");
}

/// A read: of the JSON API (with the session's header), or a page of the web app (its cookie).
enum Read {
    Api(String),
    Page(String),
}

/// Serves `url` and makes `reads(me)` as each of `people` (nick, id), each API list's next page
/// too; answers the reads made, the rows of big tables they fetched per read, and a report per
/// table. Fails on a sequential scan of a big table.
/// A full name few people share is looked up in the trigram index, not found by walking
/// everyone newest first until a page of matches turns up (all of them, for a rare name). The
/// planner picks from its estimate of the matches: the share of the search keys' histogram that
/// matches. The names tried are those of the histogram itself, the worst case: each counts for at
/// least one entry of it, which with a hundred entries is 1 % of everyone whoever bears it. The
/// statement is the search's `matched` part, as the server sends it: the text inlined.
async fn rare_full_names_are_found_through_the_trigram_index(db: &Client) {
    let names = db
        .query(
            "WITH bounds AS (SELECT unnest(histogram_bounds::text::text[]) AS key FROM pg_stats \
                 WHERE tablename = 'user_search' AND attname = 'search_key'), \
             named AS (SELECT split_part(btrim(key), ' ', 1) || ' ' || split_part(btrim(key), ' ', 2) AS name \
                 FROM bounds) \
             SELECT name FROM named n WHERE (SELECT count(*) FROM user_search u \
                 WHERE u.search_key LIKE '%' || n.name || '%') BETWEEN 1 AND 20 ORDER BY name LIMIT 5",
            &[],
        )
        .await
        .unwrap();
    assert!(!names.is_empty(), "no rare full name in the search keys' histogram");
    for name in names.iter().map(|row| row.get::<_, String>(0)) {
        let plan: Vec<String> = db
            .query(
                &format!(
                    "EXPLAIN SELECT user_id FROM user_search \
                     WHERE search_key LIKE user_search_pattern('{}') \
                     ORDER BY created_at DESC, user_id DESC LIMIT 1000",
                    name.replace('\'', "''")
                ),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        let plan = plan.join("\n");
        assert!(
            plan.contains("user_search_key_trgm_idx") && !plan.contains("user_search_newest_idx"),
            "{name}: {plan}"
        );
        // At a million people 1 % is ten thousand: past the walk's break-even.
        let estimate: f64 = plan
            .split("rows=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|rows| rows.parse().ok())
            .unwrap_or_else(|| panic!("no estimate in {plan}"));
        let people: f64 = PEOPLE.parse().unwrap();
        assert!(estimate <= people / 500.0, "{name}: {estimate} matches expected of {people}:\n{plan}");
    }
}

async fn measure(url: &str, people: &[(String, String)], reads: impl Fn(&str) -> Vec<Read>) -> (u32, f64, String) {
    let db = client(url).await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    // Whatever read before (the load's index builds and recount, the last server) is counted.
    others_gone(&db, &name).await;
    let before = table_reads(&db).await;
    let (server, base) = serve(url).await;
    let http = reqwest::Client::new();
    let mut made = 0u32;
    for (nick, me) in people {
        let login: Value = http
            .post(format!("{base}/login"))
            .json(&json!({"nick": nick, "password": "nosebook-scale"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = login["data"]["session"]["sessionId"].as_str().unwrap_or_else(|| panic!("{login}")).to_owned();
        let cookie = format!("nosebook_session={session}:{me}");
        for read in reads(me) {
            made += 1;
            match read {
                Read::Page(path) => page(&http, &format!("{base}{path}"), &cookie).await,
                Read::Api(path) => {
                    let data = get(&http, &format!("{base}{path}"), &session).await;
                    // The next page, where there is one: keyset paging must stay as bounded.
                    if let Some(next) = data["next"].as_str() {
                        let separator = if path.contains('?') { '&' } else { '?' };
                        let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                        get(&http, &format!("{base}{path}{separator}next={next}"), &session).await;
                        made += 1;
                    }
                }
            }
        }
    }
    // The server's connections end with it, and their counts reach the shared ones as they do.
    drop(server);
    others_gone(&db, &name).await;
    let after = table_reads(&db).await;
    let mut rows = 0;
    let mut report = String::new();
    for table in BIG {
        let (scans, read) = (after[table].0 - before[table].0, after[table].1 - before[table].1);
        report.push_str(&format!("{table}: {scans} sequential scans, {read} rows read\n"));
        rows += read;
    }
    for table in BIG {
        assert_eq!(after[table].0, before[table].0, "a sequential scan of {table} in {made} reads:\n{report}");
    }
    (made, rows as f64 / f64::from(made), report)
}
