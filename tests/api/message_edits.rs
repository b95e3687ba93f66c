//! Authors edit and remove their messages (`core/chats.rs` `edit_message`, `remove_message`):
//! every member's sockets hear of it, history and the chat list follow, and anyone else is
//! refused with nothing written.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, seed, send_to_asser as send, spawn_compat_app};

async fn history(app: &TestApp, session: &str, chat: &str) -> Value {
    app.get(&format!("/messages?chatId={chat}"), Some(session)).await.data().clone()
}

#[actix_web::test]
async fn the_author_edits_and_removes_messages_and_every_member_sees_it_live() {
    let app = spawn_compat_app().await;
    let mut author = app.socket(seed::SESSION).await;
    let mut reader = app.socket(seed::ASSER_SESSION).await;
    let first = send(&app, "Helo", &mut [&mut author, &mut reader]).await;
    let (id, chat) = (first["id"].as_str().unwrap().to_owned(), first["chatId"].as_str().unwrap().to_owned());
    assert!(first.get("editedAt").is_none(), "a message never edited has no editedAt: {first}");

    let edited = app.post("/messages/edit", Some(seed::SESSION), json!({"id": id, "text": "  Hello  "})).await;
    let shown = edited.data().clone();
    assert_eq!(shown["text"], "Hello", "trimmed as when sent");
    assert_eq!(shown["editedAt"], "2024-08-10T10:10:10Z");
    assert_eq!(
        (&shown["id"], &shown["chatId"], &shown["createdAt"]),
        (&first["id"], &first["chatId"], &first["createdAt"])
    );
    for socket in [&mut author, &mut reader] {
        assert_eq!(socket.event().await, json!({"type": "message_updated", "payload": shown}));
    }
    let listed = history(&app, seed::ASSER_SESSION, &chat).await;
    assert_eq!(listed["data"][0], shown);
    let total = listed["totalCount"].as_i64().unwrap();

    // A second message, removed: gone from history; the chat list shows the edited one again.
    let second = send(&app, "wrong chat, sorry", &mut [&mut author, &mut reader]).await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    let chats = app.get("/chats", Some(seed::ASSER_SESSION)).await;
    let listed_chat =
        |chats: &Value| chats["data"].as_array().unwrap().iter().find(|c| c["id"] == chat.as_str()).cloned();
    assert_eq!(listed_chat(chats.data()).unwrap()["lastMessage"]["id"], second_id.as_str());
    let removed = app.post("/messages/remove", Some(seed::SESSION), json!({"id": second_id})).await;
    assert_eq!(removed.data(), &json!({"id": second_id}));
    for socket in [&mut author, &mut reader] {
        assert_eq!(
            socket.event().await,
            json!({"type": "message_removed", "payload": {"chatId": chat, "messageId": second_id}})
        );
    }
    let listed = history(&app, seed::SESSION, &chat).await;
    assert_eq!(listed["totalCount"], total);
    assert_eq!(listed["data"][0], shown);
    let chats = app.get("/chats", Some(seed::ASSER_SESSION)).await;
    assert_eq!(listed_chat(chats.data()).unwrap()["lastMessage"], shown);

    // Removed is removed: neither edited nor removed again.
    for (path, body) in
        [("/messages/edit", json!({"id": second_id, "text": "back"})), ("/messages/remove", json!({"id": second_id}))]
    {
        let refused = app.post(path, Some(seed::SESSION), body).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{path}: {}", refused.text);
        assert_eq!(refused.error_message(), "No such message");
    }
    author.silent().await;
    reader.silent().await;
}

#[actix_web::test]
async fn only_the_author_may_change_a_message_and_a_refusal_writes_nothing() {
    let app = spawn_compat_app().await;
    let mut author = app.socket(seed::SESSION).await;
    let mut reader = app.socket(seed::ASSER_SESSION).await;
    let message = send(&app, "as sent", &mut [&mut author, &mut reader]).await;
    let (id, chat) = (message["id"].as_str().unwrap().to_owned(), message["chatId"].as_str().unwrap().to_owned());
    let (_, stranger) = app.register("stranger").await;

    for (who, session) in [("the other member", seed::ASSER_SESSION), ("a stranger", stranger.as_str())] {
        for (path, body) in
            [("/messages/edit", json!({"id": id, "text": "not yours"})), ("/messages/remove", json!({"id": id}))]
        {
            let refused = app.post(path, Some(session), body).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{who} {path}: {}", refused.text);
            assert_eq!(refused.error_type(), "Conversation Error");
        }
    }
    let unknown =
        app.post("/messages/edit", Some(seed::SESSION), json!({"id": uuid::Uuid::new_v4(), "text": "x"})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for (path, body) in [
        ("/messages/edit", json!({"id": id, "text": "   "})),
        ("/messages/edit", json!({"id": id})),
        ("/messages/edit", json!({"id": "not-an-id", "text": "x"})),
        ("/messages/remove", json!({})),
    ] {
        let refused = app.post(path, Some(seed::SESSION), body.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path} {body}: {}", refused.text);
    }
    let anonymous = app.post("/messages/remove", None, json!({"id": id})).await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN);

    // Nothing was written and nothing was said: the history is as sent, and the next event
    // anyone gets is the author's own edit.
    assert_eq!(history(&app, seed::SESSION, &chat).await["data"][0], message);
    let edited = app.post("/messages/edit", Some(seed::SESSION), json!({"id": id, "text": "mine"})).await;
    for socket in [&mut author, &mut reader] {
        assert_eq!(socket.event().await["payload"], *edited.data());
    }
}

#[actix_web::test]
async fn an_author_who_left_the_group_may_no_longer_change_their_messages() {
    let app = spawn_compat_app().await;
    let group = app
        .post("/chats/create-group", Some(seed::SESSION), json!({"title": "Trip", "memberIds": [seed::ASS_ASSER]}))
        .await;
    let chat = group.data()["id"].as_str().unwrap().to_owned();
    app.post("/conversations/send-message", Some(seed::SESSION), json!({"chatId": chat, "text": "see you"}))
        .await
        .data();
    let id = history(&app, seed::ASSER_SESSION, &chat).await["data"][0]["id"].as_str().unwrap().to_owned();
    app.post("/chats/leave", Some(seed::SESSION), json!({"chatId": chat})).await.data();
    let refused = app.post("/messages/edit", Some(seed::SESSION), json!({"id": id, "text": "changed my mind"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(history(&app, seed::ASSER_SESSION, &chat).await["data"][0]["text"], "see you");
}
