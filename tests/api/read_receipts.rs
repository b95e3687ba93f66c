//! Read receipts: a member reading a chat moves their read mark to its newest message and every
//! member's sockets hear `messages_read`; `GET /chats/{id}/reads` tells who has read up to where.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Socket, TestApp, seed, send_to_asser, spawn_compat_app};

/// Tester writes to asser; answers the message's id and chat, once every socket has it.
async fn send(app: &TestApp, text: &str, sockets: &mut [&mut Socket]) -> (String, String) {
    let message = send_to_asser(app, text, sockets).await;
    (message["id"].as_str().unwrap().to_owned(), message["chatId"].as_str().unwrap().to_owned())
}

async fn reads(app: &TestApp, session: &str, chat: &str) -> Value {
    app.get(&format!("/chats/{chat}/reads"), Some(session)).await.data().clone()
}

#[actix_web::test]
async fn reading_a_chat_tells_every_member_how_far_and_reads_lists_it() {
    let app = spawn_compat_app().await;
    let mut writer = app.socket(seed::SESSION).await;
    let mut reader = app.socket(seed::ASSER_SESSION).await;
    let mut readers_other_tab = app.socket(seed::ASSER_SESSION).await;
    let (_, chat) = send(&app, "one", &mut [&mut writer, &mut reader, &mut readers_other_tab]).await;
    let (second, _) = send(&app, "two", &mut [&mut writer, &mut reader, &mut readers_other_tab]).await;
    let nobody_yet = json!([
        {"userId": seed::TEST_TESTER, "upTo": null},
        {"userId": seed::ASS_ASSER, "upTo": null},
    ]);
    assert_eq!(reads(&app, seed::SESSION, &chat).await, nobody_yet);

    let read = app.post("/chats/read", Some(seed::ASSER_SESSION), json!({"chatId": chat})).await;
    assert_eq!(read.text, r#"{"ok":true,"data":true}"#);
    let receipt =
        json!({"type": "messages_read", "payload": {"chatId": chat, "userId": seed::ASS_ASSER, "upTo": second}});
    for socket in [&mut writer, &mut reader, &mut readers_other_tab] {
        assert_eq!(socket.event().await, receipt);
    }
    assert_eq!(
        reads(&app, seed::ASSER_SESSION, &chat).await,
        json!([{"userId": seed::TEST_TESTER, "upTo": null}, {"userId": seed::ASS_ASSER, "upTo": second}])
    );

    // Reading again moves nothing and says nothing: the next event is the next message's.
    app.post("/chats/read", Some(seed::ASSER_SESSION), json!({"chatId": chat})).await.data();
    let (third, _) = send(&app, "three", &mut [&mut writer, &mut reader, &mut readers_other_tab]).await;
    // The newest message removed, the mark moves only as far as the newest one left.
    app.post("/messages/remove", Some(seed::SESSION), json!({"id": third})).await.data();
    for socket in [&mut writer, &mut reader] {
        assert_eq!(socket.event().await["type"], "message_removed");
    }
    app.post("/chats/read", Some(seed::SESSION), json!({"chatId": chat})).await.data();
    assert_eq!(writer.event().await["payload"]["upTo"], second.as_str());
    assert_eq!(reads(&app, seed::SESSION, &chat).await[0]["upTo"], second.as_str());
}

#[actix_web::test]
async fn only_members_read_a_chat_or_see_who_read_it() {
    let app = spawn_compat_app().await;
    let mut writer = app.socket(seed::SESSION).await;
    let (_, chat) = send(&app, "private", &mut [&mut writer]).await;
    let (_, stranger) = app.register("stranger").await;

    let refused = app.post("/chats/read", Some(&stranger), json!({"chatId": chat})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(refused.error_type(), "Conversation Error");
    let hidden = app.get(&format!("/chats/{chat}/reads"), Some(&stranger)).await;
    assert_eq!(hidden.status, StatusCode::FORBIDDEN, "{}", hidden.text);
    for (path, body) in [("/chats/read", json!({})), ("/chats/read", json!({"chatId": "nope"}))] {
        assert_eq!(app.post(path, Some(seed::SESSION), body).await.status, StatusCode::BAD_REQUEST);
    }
    assert_eq!(app.get("/chats/nope/reads", Some(seed::SESSION)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.post("/chats/read", None, json!({"chatId": chat})).await.status, StatusCode::FORBIDDEN);

    // Nothing was written: nobody has read it; the writer's own read is the next event.
    assert_eq!(reads(&app, seed::SESSION, &chat).await[1]["upTo"], Value::Null);
    app.post("/chats/read", Some(seed::SESSION), json!({"chatId": chat})).await.data();
    assert_eq!(writer.event().await["payload"]["userId"], seed::TEST_TESTER);
}

/// The counts behind the messenger's ticks hold nothing for someone outside the chat: the one
/// statement checks membership itself (`schema/src/queries/chats.rs` `seen_by`).
#[actix_web::test]
async fn read_counts_are_for_members_only() {
    use nosebook_schema::ids::{ChatId, MessageId, UserId};
    use nosebook_schema::queries::chats::seen_by;
    let app = spawn_compat_app().await;
    let mut reader = app.socket(seed::ASSER_SESSION).await;
    let (message, chat) = send(&app, "count me", &mut [&mut reader]).await;
    app.post("/chats/read", Some(seed::ASSER_SESSION), json!({"chatId": chat})).await.data();
    let (stranger, _) = app.register("stranger").await;
    let id = |s: &str| uuid::Uuid::parse_str(s).unwrap();
    let (chat, message) = (ChatId(id(&chat)), MessageId(id(&message)));
    let mut conn = app.db().await;
    let as_author = seen_by(&mut conn, chat, UserId(id(seed::TEST_TESTER)), &[message]).await.unwrap();
    assert_eq!(as_author, std::collections::HashMap::from([(message, 1)]));
    assert!(seen_by(&mut conn, chat, UserId(id(&stranger)), &[message]).await.unwrap().is_empty());
}
