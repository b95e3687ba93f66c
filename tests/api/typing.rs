//! Typing indicators (`core/typing.rs`): the other members' sockets get `typing`, the typist's
//! never, at most once per few seconds per person and chat, and only members may say it.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{seed, send_to_asser, spawn_compat_app};

#[actix_web::test]
async fn the_other_member_sees_someone_typing_the_typist_does_not_and_repeats_are_folded() {
    let app = spawn_compat_app().await;
    let mut typist = app.socket(seed::SESSION).await;
    let mut other = app.socket(seed::ASSER_SESSION).await;
    let chat = send_to_asser(&app, "hi", &mut [&mut typist, &mut other]).await["chatId"].as_str().unwrap().to_owned();

    let told = app.post("/chats/typing", Some(seed::SESSION), json!({"chatId": chat})).await;
    assert_eq!(told.text, r#"{"ok":true,"data":true}"#);
    let event = other.event().await;
    assert_eq!(event["type"], "typing");
    assert_eq!(event["payload"]["chatId"], chat.as_str());
    assert_eq!(event["payload"]["user"]["id"], seed::TEST_TESTER);
    assert_eq!(event["payload"]["user"]["nick"], "test_tester");

    // Said again at once: answered, not repeated. Nor did the typist hear either: the next event
    // both get is the next message.
    app.post("/chats/typing", Some(seed::SESSION), json!({"chatId": chat})).await.data();
    send_to_asser(&app, "still here", &mut [&mut typist, &mut other]).await;
}

#[actix_web::test]
async fn only_members_may_say_they_are_typing() {
    let app = spawn_compat_app().await;
    let mut other = app.socket(seed::ASSER_SESSION).await;
    let chat = send_to_asser(&app, "hi", &mut [&mut other]).await["chatId"].as_str().unwrap().to_owned();
    let (_, stranger) = app.register("stranger").await;
    let refused = app.post("/chats/typing", Some(&stranger), json!({"chatId": chat})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(refused.error_type(), "Conversation Error");
    let unknown = app.post("/chats/typing", Some(seed::SESSION), json!({"chatId": uuid::Uuid::new_v4()})).await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post("/chats/typing", Some(seed::SESSION), json!({})).await.status, StatusCode::BAD_REQUEST);
    // Nothing reached the member: the next event is the next message.
    send_to_asser(&app, "after", &mut [&mut other]).await;
}
