//! `nosebook seed scale`: the real binary generates a small social graph into a fresh migrated
//! database; the rows must keep every constraint and invariant the server relies on, come out the
//! same for the same seed, and leave the schema (its indexes) exactly as `migrate` made it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use nosebook_core::passwords::{Passwords, Verdict};
use support::server::nosebook;
use tokio_postgres::{Client, NoTls};

const PEOPLE: &str = "2000";

async fn client(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

async fn count(db: &Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

async fn indexes(db: &Client) -> Vec<(String, String)> {
    db.query("SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// A digest of every loaded table, rows in a fixed order.
async fn fingerprint(db: &Client) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for table in [
        "users",
        "friendship_requests",
        "posts",
        "comments",
        "post_likes",
        "comment_likes",
        "chats",
        "chat_members",
        "private_chats",
        "messages",
        "wall_versions",
    ] {
        let sql = format!("SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) FROM {table} t");
        let digest: Option<String> = db.query_one(&sql, &[]).await.unwrap().get(0);
        out.push((table.to_owned(), digest.unwrap_or_default()));
    }
    out
}

fn seed(db: &str, people: &str, extra: &[&str]) -> String {
    let mut args = vec!["seed", "scale", "--people", people];
    args.extend_from_slice(extra);
    let out = nosebook(&args, db);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[tokio::test]
async fn seed_scale_loads_a_consistent_graph_and_leaves_the_schema_as_migrate_made_it() {
    let (url, reference_url) = (support::fresh_database().await, support::fresh_database().await);
    let (db, reference) = (client(&url).await, client(&reference_url).await);
    let migrated = indexes(&reference).await;

    let stdout = seed(&url, PEOPLE, &[]);
    assert_eq!(indexes(&db).await, migrated, "the load must leave the indexes as migrate made them");

    // Every table reported, with rows and a rate, then the total; and Anna's id.
    for table in ["users", "friendship_requests", "posts", "messages", "wall_versions", "total"] {
        assert!(stdout.lines().any(|l| l.starts_with(table)), "no line for {table} in:\n{stdout}");
    }
    let anna: String = db.query_one("SELECT id::text FROM users WHERE nick = 'anna'", &[]).await.unwrap().get(0);
    assert!(stdout.contains(&anna), "{stdout}");

    // Plausible sizes for 2,000 people.
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 2000);
    let friendships = count(&db, "SELECT count(*) FROM friendship_requests WHERE accepted").await;
    assert!((50_000..80_000).contains(&friendships), "{friendships} friendships");
    let pending = count(&db, "SELECT count(*) FROM friendship_requests WHERE NOT accepted").await;
    assert!(pending > 0 && pending < friendships / 10, "{pending} pending");
    let posts = count(&db, "SELECT count(*) FROM posts").await;
    assert!((15_000..25_000).contains(&posts), "{posts} posts");
    let messages = count(&db, "SELECT count(*) FROM messages").await;
    assert!((15_000..40_000).contains(&messages), "{messages} messages");
    for table in ["comments", "post_likes", "comment_likes", "chats", "private_chats", "wall_versions"] {
        assert!(count(&db, &format!("SELECT count(*) FROM {table}")).await > 100, "{table} is nearly empty");
    }
    assert!(count(&db, "SELECT count(*) FROM chats WHERE kind = 'group'").await > 10);
    // Latin and Cyrillic names; the commonest first name very common.
    assert!(count(&db, "SELECT count(*) FROM users WHERE first_name ~ '[А-Яа-я]'").await > 500);
    assert!(count(&db, "SELECT count(*) FROM users WHERE first_name ~ '^[A-Za-z]+$'").await > 500);
    let annas =
        count(&db, "SELECT count(*) FROM users WHERE (first_name || ' ' || last_name || ' ' || nick) ILIKE '%anna%'")
            .await;
    assert!((120..400).contains(&annas), "{annas} people match 'anna'");
    // Some people have not been seen for a long time.
    assert!(count(&db, "SELECT count(*) FROM users WHERE last_activity_at < '2026-06-01'").await > 100);

    // Anna, scaled down: 500 friends, 1,000 posts on her wall, ~250 chats, one of 5,000 messages.
    let anna_friends = count(
        &db,
        &format!(
            "SELECT count(*) FROM friendship_requests WHERE accepted AND '{anna}' IN (requester_id, responder_id)"
        ),
    )
    .await;
    assert_eq!(anna_friends, 500);
    // The counts pages read are those of the rows (the load computes them with `recount()`).
    let kept = count(
        &db,
        &format!("SELECT accepted_in + accepted_out + wall_posts FROM user_counts WHERE user_id = '{anna}'"),
    )
    .await;
    assert_eq!(kept, 500 + 1000);
    assert_eq!(count(&db, &format!("SELECT count(*) FROM posts WHERE owner_id = '{anna}'")).await, 1000);
    let anna_chats = count(&db, &format!("SELECT count(*) FROM chat_members WHERE user_id = '{anna}'")).await;
    assert!((200..350).contains(&anna_chats), "{anna_chats} chats");
    let biggest = count(
        &db,
        &format!(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM messages m JOIN chat_members c USING (chat_id) \
             WHERE c.user_id = '{anna}' GROUP BY m.chat_id) x"
        ),
    )
    .await;
    assert_eq!(biggest, 5000);
    // Everyone's password is the data set's.
    let passhash: String = db.query_one("SELECT passhash FROM users WHERE nick = 'anna'", &[]).await.unwrap().get(0);
    let verdict = Passwords::new().unwrap().verify("nosebook-scale".into(), Some(passhash)).await.unwrap();
    assert_eq!(verdict, Verdict::Match { upgrade: None });
    assert_eq!(count(&db, "SELECT count(DISTINCT passhash) FROM users").await, 1);

    // Every foreign key holds (the load skips their checks, so check them all here).
    let foreign_keys = db
        .query(
            "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text, b.attname::text \
             FROM pg_constraint c \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = c.confkey[1] \
             WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND cardinality(c.conkey) = 1",
            &[],
        )
        .await
        .unwrap();
    assert!(foreign_keys.len() > 10);
    for fk in foreign_keys {
        let (table, column, target, key): (String, String, String, String) =
            (fk.get(0), fk.get(1), fk.get(2), fk.get(3));
        let sql = format!(
            "SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL \
             AND NOT EXISTS (SELECT FROM {target} r WHERE r.{key} = t.{column})"
        );
        assert_eq!(count(&db, &sql).await, 0, "{table}.{column} -> {target}.{key}");
    }
    // What the server keeps consistent as it writes.
    for (what, sql) in [
        (
            "each chat points at its newest message",
            "SELECT count(*) FROM chats c WHERE last_message_id IS DISTINCT FROM \
             (SELECT id FROM messages m WHERE m.chat_id = c.id ORDER BY seq DESC LIMIT 1) \
             OR last_message_at IS DISTINCT FROM (SELECT max(created_at) FROM messages m WHERE m.chat_id = c.id)",
        ),
        (
            "messages rise in time with seq",
            "SELECT count(*) FROM (SELECT created_at, lag(created_at) OVER (PARTITION BY chat_id ORDER BY seq) AS prev \
             FROM messages) x WHERE created_at <= prev",
        ),
        (
            "read marks point into the member's chat",
            "SELECT count(*) FROM chat_members cm WHERE last_read_seq <> 0 AND NOT EXISTS \
             (SELECT FROM messages m WHERE m.chat_id = cm.chat_id AND m.seq = cm.last_read_seq)",
        ),
        (
            "private chats have exactly their pair as members",
            "SELECT count(*) FROM chats c LEFT JOIN private_chats p ON p.chat_id = c.id WHERE \
             (c.kind = 'private') <> (p.chat_id IS NOT NULL) OR (p.chat_id IS NOT NULL AND \
             (SELECT array_agg(user_id ORDER BY user_id) FROM chat_members m WHERE m.chat_id = c.id) \
             <> ARRAY[p.user_low, p.user_high])",
        ),
        (
            "private chats are between friends",
            "SELECT count(*) FROM private_chats p WHERE NOT EXISTS (SELECT FROM friendship_requests f WHERE f.accepted \
             AND LEAST(f.requester_id, f.responder_id) = p.user_low AND GREATEST(f.requester_id, f.responder_id) = p.user_high)",
        ),
        (
            "authors are members of their chat",
            "SELECT count(*) FROM messages m WHERE NOT EXISTS \
             (SELECT FROM chat_members c WHERE c.chat_id = m.chat_id AND c.user_id = m.author_id)",
        ),
        (
            "replies answer an earlier message of the same chat",
            "SELECT count(*) FROM messages m WHERE reply_to IS NOT NULL AND NOT EXISTS \
             (SELECT FROM messages r WHERE r.id = m.reply_to AND r.chat_id = m.chat_id AND r.seq < m.seq)",
        ),
        (
            "every wall with posts has a version, and only those",
            "SELECT count(*) FROM (SELECT DISTINCT owner_id FROM posts) p FULL JOIN wall_versions w USING (owner_id) \
             WHERE p.owner_id IS NULL OR w.owner_id IS NULL",
        ),
        (
            "sequences continue after the loaded rows",
            "SELECT (SELECT max(seq) FROM messages) - (SELECT last_value FROM messages_seq_seq) \
             + (SELECT max(seq) FROM post_likes) - (SELECT last_value FROM post_likes_seq_seq)",
        ),
        (
            "people search has everyone, with the key the triggers would write",
            "SELECT count(*) FROM users u FULL JOIN user_search s ON s.user_id = u.id WHERE u.id IS NULL \
             OR s.user_id IS NULL OR s.created_at <> u.created_at \
             OR s.search_key <> user_search_key(u.first_name, u.last_name, u.nick)",
        ),
        (
            "no comment predates its post",
            "SELECT count(*) FROM comments c JOIN posts p ON p.id = c.post_id WHERE c.created_at < p.created_at",
        ),
    ] {
        assert_eq!(count(&db, sql).await, 0, "{what}");
    }

    // Seeding again is refused, and changes nothing.
    let before = fingerprint(&db).await;
    let again = nosebook(&["seed", "scale", "--people", PEOPLE], &url);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has users"), "{again:?}");
    assert_eq!(fingerprint(&db).await, before);

    // The same seed, the same rows.
    seed(&reference_url, PEOPLE, &[]);
    assert_eq!(fingerprint(&reference).await, before);
}

#[tokio::test]
async fn another_seed_gives_other_rows() {
    let (a, b) = (support::fresh_database().await, support::fresh_database().await);
    seed(&a, "300", &[]);
    seed(&b, "300", &["--seed", "7"]);
    let (a, b) = (fingerprint(&client(&a).await).await, fingerprint(&client(&b).await).await);
    assert_ne!(a[0], b[0]);
}
