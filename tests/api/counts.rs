//! The counts pages read as one row (migration `counts`): kept by triggers through every kind of
//! write, they must always equal the rows they count, which `recount()` computes anew.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

#[derive(QueryableByName)]
struct Differing {
    #[diesel(sql_type = Text)]
    counts: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Rows of each count table that differ from a recount (none, where the triggers are right).
async fn differences(conn: &mut AsyncPgConnection) -> Vec<(String, i64)> {
    conn.batch_execute(
        "CREATE TEMP TABLE kept_users AS SELECT * FROM user_counts
             WHERE wall_posts <> 0 OR authored_posts <> 0 OR accepted_in <> 0 OR accepted_out <> 0 OR pending_in <> 0 OR pending_out <> 0
                OR unviewed_in <> 0 OR chats <> 0;
         CREATE TEMP TABLE kept_posts AS SELECT * FROM post_counts WHERE likes <> 0 OR comments <> 0;
         CREATE TEMP TABLE kept_comments AS SELECT * FROM comment_counts WHERE likes <> 0;
         CREATE TEMP TABLE kept_chats AS SELECT * FROM chat_counts WHERE messages <> 0;
         CALL recount();",
    )
    .await
    .unwrap();
    let sides = |kept: &str, counts: &str| {
        format!(
            "SELECT '{counts}' AS counts, count(*) AS rows FROM ((SELECT * FROM {kept} EXCEPT SELECT * FROM {counts}) \
             UNION ALL (SELECT * FROM {counts} EXCEPT SELECT * FROM {kept})) d"
        )
    };
    let sql = [
        sides("kept_users", "user_counts"),
        sides("kept_posts", "post_counts"),
        sides("kept_comments", "comment_counts"),
        sides("kept_chats", "chat_counts"),
    ]
    .join(" UNION ALL ");
    let rows: Vec<Differing> = diesel::sql_query(sql).load(conn).await.unwrap();
    rows.into_iter().map(|d| (d.counts, d.rows)).collect()
}

#[tokio::test]
async fn counts_follow_every_kind_of_write() {
    let url = crate::support::fresh_database().await;
    let mut conn = crate::support::connect(&url).await;
    nosebook::seed::compat::load(&mut conn).await.unwrap();
    // The seed's own counts, written by the triggers as it loaded.
    let none: Vec<(String, i64)> =
        ["user_counts", "post_counts", "comment_counts", "chat_counts"].iter().map(|t| (t.to_string(), 0)).collect();
    assert_eq!(differences(&mut conn).await, none, "after the seed");
    conn.batch_execute("DROP TABLE kept_users, kept_posts, kept_comments, kept_chats").await.unwrap();

    // Every write that changes a count, several rows to a statement as well as one: inserts,
    // removals and their undoing, edits that change nothing counted, deletes and their cascades.
    conn.batch_execute(
        "INSERT INTO posts (author_id, owner_id, message, created_at)
             SELECT a.id, o.id, 'x', now() FROM users a CROSS JOIN users o WHERE a.nick < o.nick;
         UPDATE posts SET removed_at = now() WHERE id IN (SELECT id FROM posts ORDER BY id LIMIT 7);
         UPDATE posts SET message = 'edited' WHERE id IN (SELECT id FROM posts ORDER BY id DESC LIMIT 9);
         UPDATE posts SET removed_at = NULL WHERE id IN (SELECT id FROM posts WHERE removed_at IS NOT NULL ORDER BY id LIMIT 2);
         INSERT INTO comments (post_id, author_id, message, created_at)
             SELECT p.id, u.id, 'c', now() FROM posts p CROSS JOIN (SELECT id FROM users ORDER BY id LIMIT 3) u;
         UPDATE comments SET removed_at = now() WHERE id IN (SELECT id FROM comments ORDER BY id LIMIT 11);
         UPDATE comments SET message = 'edited' WHERE id IN (SELECT id FROM comments ORDER BY id DESC LIMIT 5);
         INSERT INTO post_likes (post_id, user_id, liked_at)
             SELECT p.id, u.id, now() FROM posts p CROSS JOIN users u ON CONFLICT DO NOTHING;
         DELETE FROM post_likes WHERE user_id = (SELECT id FROM users ORDER BY id LIMIT 1);
         INSERT INTO comment_likes (comment_id, user_id, liked_at)
             SELECT c.id, u.id, now() FROM comments c CROSS JOIN (SELECT id FROM users ORDER BY id LIMIT 4) u;
         DELETE FROM comment_likes WHERE comment_id IN (SELECT id FROM comments ORDER BY id LIMIT 6);
         INSERT INTO messages (chat_id, author_id, text, created_at)
             SELECT c.chat_id, c.user_id, 'm', now() FROM chat_members c CROSS JOIN generate_series(1, 5);
         UPDATE messages SET removed_at = now() WHERE id IN (SELECT id FROM messages ORDER BY seq DESC LIMIT 4);
         UPDATE messages SET text = 'edited' WHERE id IN (SELECT id FROM messages ORDER BY seq DESC LIMIT 8);
         DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE removed_at IS NULL ORDER BY seq LIMIT 3);
         DELETE FROM comments WHERE id IN (SELECT id FROM comments WHERE removed_at IS NULL ORDER BY id LIMIT 5);
         DELETE FROM posts WHERE id IN (SELECT id FROM posts ORDER BY id DESC LIMIT 4);
         DELETE FROM friendship_requests WHERE requester_id IN (SELECT id FROM users ORDER BY id LIMIT 2);
         INSERT INTO friendship_requests (requester_id, responder_id, message, accepted, viewed, created_at)
             SELECT a.id, o.id, '', a.nick < 'm', false, now() FROM users a CROSS JOIN users o
             WHERE a.id < o.id ON CONFLICT DO NOTHING;
         UPDATE friendship_requests SET accepted = true WHERE NOT accepted AND requester_id IN (SELECT id FROM users ORDER BY id DESC LIMIT 3);
         UPDATE friendship_requests SET viewed = true WHERE responder_id IN (SELECT id FROM users ORDER BY id LIMIT 5);
         DELETE FROM friendship_requests WHERE accepted AND responder_id IN (SELECT id FROM users ORDER BY id DESC LIMIT 2);
         INSERT INTO chats (id, kind, title, created_at) VALUES
             ('00000000-0000-0000-0000-00000000c001', 'group', 'g', now()),
             ('00000000-0000-0000-0000-00000000c002', 'private', NULL, now()),
             ('00000000-0000-0000-0000-00000000c003', 'private', NULL, now());
         INSERT INTO chat_members (chat_id, user_id, joined_at)
             SELECT c.id, u.id, now() FROM chats c CROSS JOIN (SELECT id FROM users ORDER BY id LIMIT 4) u
             WHERE c.id = '00000000-0000-0000-0000-00000000c001'
             UNION ALL SELECT c.id, u.id, now() FROM chats c CROSS JOIN (SELECT id FROM users ORDER BY id DESC LIMIT 2) u
             WHERE c.id IN ('00000000-0000-0000-0000-00000000c002', '00000000-0000-0000-0000-00000000c003');
         UPDATE chats SET last_message_at = now() WHERE kind = 'private';
         UPDATE chats SET last_message_at = now() + interval '1 second' WHERE kind = 'private';
         UPDATE chats SET last_message_at = NULL WHERE id = '00000000-0000-0000-0000-00000000c003';
         DELETE FROM chat_members WHERE chat_id IN ('00000000-0000-0000-0000-00000000c001', '00000000-0000-0000-0000-00000000c003')
             AND user_id = (SELECT id FROM users ORDER BY id DESC LIMIT 1);",
    )
    .await
    .unwrap();
    assert_eq!(differences(&mut conn).await, none, "after the writes");
}
