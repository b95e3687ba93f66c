//! The chat writers (`nosebook_actors::chats`) driven directly, for what no request can cause:
//! a batch the database refuses as a whole.

use std::sync::Arc;

use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use futures_util::future::join_all;
use nosebook_actors::threads::Arbiters;
use nosebook_actors::{ChatWriters, SendMessage};
use nosebook_events::wire;
use nosebook_schema::ids::{ChatId, UserId};
use nosebook_schema::queries::users;
use nosebook_schema::time::Clock;
use nosebook_schema::{DbPool, PoolSettings};
use serde_json::json;

use crate::helpers::spawn_app;
use crate::observability::{scrape, value};

/// A send PostgreSQL refuses (text it cannot store; the API refuses such text before it gets
/// here) makes its whole batch fail; the writer then writes the batch one send at a time, so
/// it fails alone and its neighbours are stored.
#[actix_web::test]
async fn a_send_that_poisons_its_batch_fails_alone() {
    let app = spawn_app().await;
    let (anna, anna_session) = app.register("poison_anna").await;
    let (boris, _) = app.register("poison_boris").await;
    app.post("/conversations/send-message", Some(&anna_session), json!({"recipientId": boris, "text": "hi"}))
        .await
        .data();
    let chat = app.get("/chats", Some(&anna_session)).await.data()["data"][0]["id"].as_str().unwrap().to_owned();
    let chat = ChatId::from(uuid::Uuid::parse_str(&chat).unwrap());
    let author = UserId::from(uuid::Uuid::parse_str(&anna).unwrap());
    let db =
        DbPool::new(&PoolSettings { url: app.db_url.clone(), max_size: 4, timeout: std::time::Duration::from_secs(5) })
            .unwrap();
    let row = users::find(&mut db.get().await.unwrap(), author).await.unwrap().unwrap();
    let shown = wire::User::new(row, Clock::System.now());
    let writers = ChatWriters::start(db.clone(), Clock::System, Arc::new(|_| {}), &Arbiters::per_core());
    let send = |text: &str| {
        writers.send(SendMessage {
            chat,
            author,
            text: text.to_owned(),
            reply_to: None,
            author_shown_as: shown.clone(),
            trace: None,
        })
    };

    // The chat's row held: one send waits in its batch, the next three gather behind it.
    let mut holder = app.db().await;
    holder.batch_execute(&format!("BEGIN; SELECT 1 FROM chats WHERE id = '{chat}' FOR UPDATE")).await.unwrap();
    let held = send("held");
    let texts = ["before", "nul \0 inside", "after"];
    let release = async {
        let mut queued = 0.0;
        while queued < 3.0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            queued = value(&scrape(&app).await, "nosebook_sends_queued", &[]).unwrap_or(0.0);
        }
        holder.batch_execute("COMMIT").await.unwrap();
    };
    let (held, batch, ()) = tokio::join!(held, join_all(texts.map(send)), release);
    assert!(matches!(held, Ok(Ok(_))), "{held:?}");
    let [before, poisoned, after] = <[_; 3]>::try_from(batch).unwrap();
    assert!(matches!(before, Ok(Ok(_))), "{before:?}");
    assert!(matches!(after, Ok(Ok(_))), "{after:?}");
    assert!(poisoned.is_err_and(|e| e.is_unstorable_text()));

    let stored: Vec<String> =
        diesel::sql_query(format!("SELECT text FROM messages WHERE chat_id = '{chat}' ORDER BY seq"))
            .load::<Text>(&mut app.db().await)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.text)
            .collect();
    assert_eq!(stored, ["hi", "held", "before", "after"]);
}

#[derive(diesel::QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    text: String,
}
