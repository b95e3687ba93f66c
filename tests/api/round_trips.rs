//! The round-trip budget of the hot requests: how many statements each sends to PostgreSQL from
//! its own task (`X-Db-Statements`, answered in testing). Each is asked twice and the second
//! answer counts, so the caches are warm as they are on a busy server. A query added to one of
//! these paths, or a cache that stops answering, fails here.

use crate::helpers::spawn_compat_app;
use crate::support::seed;

#[actix_web::test]
async fn hot_reads_keep_their_round_trip_budget() {
    let app = spawn_compat_app().await;
    let s = Some(seed::SESSION);
    let chats = app.get("/chats", s).await;
    let chat = chats.body["data"]["data"][0]["id"].as_str().expect("the seed's tester has a chat").to_owned();
    let budget: [(String, u32); 9] = [
        // The caller is in the session actor's memory; the user objects in the user cache.
        ("/whoami".into(), 0),
        (format!("/users/{}", seed::ASS_ASSER), 0),
        // A page costs a fixed number of statements whatever its size (`core/present.rs`); users
        // come from the cache. A pooled connection in use is handed out without a test query
        // (`schema/src/pool.rs`).
        // A wall's first page is kept in memory while its version is unchanged: the version and
        // the viewer's own likes (`core/walls.rs`, tested in `walls.rs`).
        (format!("/posts?ownerId={}", seed::TEST_TESTER), 1),
        (format!("/comments?postId={}", seed::LIKED_POST), 5),
        // The feed, kept (its first read asked for that, and the copier built it below): its
        // page and total in one statement, then the parts of the page as for a wall page built
        // anew (`core/present.rs`).
        ("/feed".into(), 5),
        ("/chats".into(), 4),
        (format!("/messages?chatId={chat}"), 3),
        (format!("/friendship?userId={}", seed::TEST_TESTER), 2),
        (
            format!(
                "/friendship/relation-between?sourceUserId={}&targetUserIds={}",
                seed::TEST_TESTER,
                seed::ASS_ASSER
            ),
            1,
        ),
    ];
    let mut measured = Vec::new();
    for (path, _) in &budget {
        app.get(path, s).await;
        crate::feed::settled(&app).await;
        measured.push((path.clone(), app.get(path, s).await.db_statements()));
    }
    // A send, once the pair's private chat is known: nothing from the request itself — the
    // chat writer's batch is counted by the next test.
    let send = || {
        app.post(
            "/conversations/send-message",
            s,
            serde_json::json!({"recipientId": seed::ASS_ASSER, "text": "counted"}),
        )
    };
    send().await;
    measured.push(("POST /conversations/send-message".into(), send().await.db_statements()));
    // A post on one's own wall: its transaction (`BEGIN`, the insert, `COMMIT`); the triggers
    // inside the insert queue its copies into the friends' kept feeds, which the copier makes
    // after the commit, off the request.
    let publish =
        || app.post("/posts/publish", s, serde_json::json!({"ownerId": seed::TEST_TESTER, "message": "counted"}));
    publish().await;
    measured.push(("POST /posts/publish".into(), publish().await.db_statements()));
    let mut expected: Vec<(String, u32)> = budget.to_vec();
    expected.push(("POST /conversations/send-message".into(), 0));
    expected.push(("POST /posts/publish".into(), 3));
    assert_eq!(measured, expected);
}

/// The statements one batch of sends costs, whatever its size: `BEGIN`, the chats' lock, their
/// members, one statement for the messages, pointers and events, `COMMIT`
/// (`nosebook_actors::chats`).
const STATEMENTS_PER_BATCH: f64 = 5.0;

/// Sends that arrive while a batch is being written go out together, in one transaction of a
/// fixed number of statements; a refused send among them fails alone.
#[actix_web::test]
async fn sends_that_gather_during_a_write_are_one_batch_of_fixed_cost() {
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    use futures_util::future::join_all;
    use serde_json::json;

    use crate::observability::{scrape, value};

    let app = crate::helpers::spawn_app().await;
    let (_, anna) = app.register("batch_anna").await;
    let (boris, _) = app.register("batch_boris").await;
    let (_, carl) = app.register("batch_carl").await;
    let send = |session: &str, body: serde_json::Value| {
        let (app, session) = (&app, session.to_owned());
        async move { app.post("/conversations/send-message", Some(&session), body).await.status }
    };
    assert!(send(&anna, json!({"recipientId": boris, "text": "first"})).await.is_success());
    let chat = app.get("/chats", Some(&anna)).await.data()["data"][0]["id"].as_str().unwrap().to_owned();
    let counters = |text: &str| {
        ["nosebook_sends_written_total", "nosebook_send_batches_total", "nosebook_send_statements_total"]
            .map(|name| value(text, name, &[]).unwrap_or(0.0))
    };
    let before = counters(&scrape(&app).await);

    // Hold the chat's row: the next batch waits for it, and what comes meanwhile gathers.
    let mut holder = app.db().await;
    holder.batch_execute(&format!("BEGIN; SELECT 1 FROM chats WHERE id = '{chat}' FOR UPDATE")).await.unwrap();
    let held = actix_web::rt::spawn({
        let (address, anna, boris) = (app.address.clone(), anna.clone(), boris.clone());
        async move {
            reqwest::Client::new()
                .post(format!("{address}/conversations/send-message"))
                .header("X-Auth-Session-Id", anna)
                .json(&json!({"recipientId": boris, "text": "held"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let mut observer = app.db().await;
    let waiting = || {
        diesel::sql_query(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    };
    while waiting().execute(&mut observer).await.unwrap() == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let gathered = async {
        let mut queued = 0.0;
        while queued < 51.0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            queued = value(&scrape(&app).await, "nosebook_sends_queued", &[]).unwrap_or(0.0);
        }
    };
    let sends = (0..50).map(|i| send(&anna, json!({"chatId": chat, "text": format!("batched {i}")})));
    let (answers, refused, ()) = tokio::join!(
        join_all(sends),
        // Carl is no member: refused, and alone.
        send(&carl, json!({"chatId": chat, "text": "let me in"})),
        async {
            gathered.await;
            holder.batch_execute("COMMIT").await.unwrap();
        }
    );
    assert!(held.await.unwrap().is_success());
    assert!(answers.iter().all(|status| status.is_success()), "{answers:?}");
    assert_eq!(refused, reqwest::StatusCode::FORBIDDEN);

    let after = counters(&scrape(&app).await);
    let [sends, batches, statements] = [0, 1, 2].map(|i| after[i] - before[i]);
    assert_eq!((sends, batches), (52.0, 2.0), "the held send, then the 51 that gathered behind it");
    assert_eq!(statements, 2.0 * STATEMENTS_PER_BATCH);
    assert!(statements / sends < 2.0);
    let stored: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "(SELECT count(*) FROM messages WHERE chat_id = '{chat}')"
    )))
    .get_result(&mut observer)
    .await
    .unwrap();
    assert_eq!(stored, 52, "the first message, the held one and the batch of 50");
}
