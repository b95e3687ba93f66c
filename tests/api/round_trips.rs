//! The round-trip budget of the hot requests: how many statements each sends to PostgreSQL from
//! its own task (`X-Db-Statements`, answered in testing). Each is asked twice and the second
//! answer counts, so the caches are warm as they are on a busy server. A query added to one of
//! these paths, or a cache that stops answering, fails here.

use crate::helpers::{Answer, spawn_compat_app};
use crate::support::seed;

fn statements(answer: &Answer) -> u32 {
    assert!(answer.status.is_success(), "{}", answer.text);
    let header = answer.headers.get("x-db-statements").expect("X-Db-Statements is answered in testing");
    header.to_str().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn hot_reads_keep_their_round_trip_budget() {
    let app = spawn_compat_app().await;
    let s = Some(seed::SESSION);
    let chats = app.get("/chats", s).await;
    let chat = chats.body["data"]["data"][0]["id"].as_str().expect("the seed's tester has a chat").to_owned();
    let budget: [(String, u32); 8] = [
        // The caller is in the session actor's memory; the user objects in the user cache.
        ("/whoami".into(), 0),
        (format!("/users/{}", seed::ASS_ASSER), 0),
        // A page costs a fixed number of statements whatever its size (`core/present.rs`); users
        // come from the cache. Each count includes the pool checkout's `SELECT 1` (see
        // `schema/src/pool.rs` for why it stays for now).
        (format!("/posts?ownerId={}", seed::TEST_TESTER), 7),
        (format!("/comments?postId={}", seed::LIKED_POST), 6),
        ("/chats".into(), 5),
        (format!("/messages?chatId={chat}"), 4),
        (format!("/friendship?userId={}", seed::TEST_TESTER), 3),
        (
            format!(
                "/friendship/relation-between?sourceUserId={}&targetUserIds={}",
                seed::TEST_TESTER,
                seed::ASS_ASSER
            ),
            2,
        ),
    ];
    let mut measured = Vec::new();
    for (path, _) in &budget {
        app.get(path, s).await;
        measured.push((path.clone(), statements(&app.get(path, s).await)));
    }
    let expected: Vec<(String, u32)> = budget.to_vec();
    assert_eq!(measured, expected);
}
