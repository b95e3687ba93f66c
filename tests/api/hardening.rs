//! What a careless client or an attacker sends: each answered with a clear error, never a
//! panic, a 500 or a dropped connection.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{seed, spawn_compat_app};

#[actix_web::test]
async fn a_page_request_with_a_session_header_is_answered() {
    let app = spawn_compat_app().await;
    // A UUID-shaped session header on a page request, signed in or not: the page's viewer must
    // not borrow the request's state twice (a panic that drops the connection).
    for session in ["00000000-0000-0000-0000-000000000001", seed::SESSION] {
        let page = app.get("/app/login", Some(session)).await;
        assert!(page.status.is_success() || page.status.is_redirection(), "{session}: {}", page.status);
    }
    let page = app.get(&format!("/app/users/{}", seed::TEST_TESTER), Some(seed::SESSION)).await;
    assert!(page.status.is_success() || page.status.is_redirection(), "{}", page.status);
}

#[actix_web::test]
async fn nul_is_bad_input_wherever_text_comes_in() {
    let app = spawn_compat_app().await;
    let s = Some(seed::SESSION);
    for path in ["/users?text=%00", "/users?text=a%00b", "/app/search?text=%00"] {
        let answer = app.get(path, s).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {}", answer.text);
        assert!(answer.error_message().contains("NUL"), "{path}: {}", answer.text);
    }
    let commands = [
        ("/posts/publish", json!({"ownerId": seed::TEST_TESTER, "message": "a\u{0}b"})),
        ("/comments/publish-on-post", json!({"id": seed::LIKED_POST, "message": "\u{0}"})),
        ("/conversations/send-message", json!({"recipientId": seed::ASS_ASSER, "text": "hi\u{0}"})),
        ("/chats/create-group", json!({"title": "t\u{0}", "memberIds": [seed::ASS_ASSER]})),
        ("/friendship/send-request", json!({"responderId": seed::MARINA, "message": "\u{0}"})),
    ];
    for (path, body) in commands {
        let answer = app.post(path, s, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}: {}", answer.text);
        assert!(answer.error_message().contains("NUL"), "{path}: {}", answer.text);
    }
    let login = app.post("/login", None, json!({"nick": "test\u{0}tester", "password": seed::PASSWORD})).await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST, "{}", login.text);

    // The web app's forms too.
    let form = app.send_with_content_type("/app/login", "nick=a%00b&password=x", "application/x-www-form-urlencoded");
    let form = form.await;
    assert_eq!(form.status, StatusCode::BAD_REQUEST, "{}", form.text);

    // An escaped backslash followed by "u0000" is text, not NUL.
    let fine = app.post("/posts/publish", s, json!({"ownerId": seed::TEST_TESTER, "message": "\\u0000"})).await;
    assert_eq!(fine.status, StatusCode::OK, "{}", fine.text);
}

#[actix_web::test]
async fn odd_storage_paths_are_not_found() {
    let app = spawn_compat_app().await;
    for path in [
        "/storage/users/avatars//x.jpg",
        "/storage/users/avatars/%2e/x.jpg",
        "/storage/users/avatars/%2e%2e/%2e%2e/etc/passwd.jpg",
        "/storage/users/avatars/x.jpg",
        "/storage/users/avatars/00000000-0000-0000-0000-000000000001/0123456789abcdef-400.jpg",
    ] {
        let answer = app.get(path, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}: {}", answer.text);
    }
    let nul = app.get("/storage/users/avatars/a%00b.jpg", None).await;
    assert_eq!(nul.status, StatusCode::BAD_REQUEST, "{}", nul.text);
}

#[actix_web::test]
async fn head_is_answered_like_get_without_a_body() {
    let app = spawn_compat_app().await;
    let user = format!("/users/{}", seed::TEST_TESTER);
    for (path, session) in [("/ping", ""), ("/healthz", ""), ("/app/login", ""), (user.as_str(), seed::SESSION)] {
        let get = app.client.get(format!("{}{path}", app.address)).header("X-Auth-Session-Id", session);
        let get = get.send().await.unwrap();
        let head = app.client.head(format!("{}{path}", app.address)).header("X-Auth-Session-Id", session);
        let head = head.send().await.unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        assert!(head.status().is_success(), "{path}: {}", head.status());
        assert_eq!(head.headers().get("content-type"), get.headers().get("content-type"), "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[actix_web::test]
async fn logging_out_closes_that_sessions_sockets_and_no_others() {
    let app = spawn_compat_app().await;
    let mut ended = app.socket(seed::SESSION_2).await;
    let mut kept = app.socket(seed::SESSION).await;
    app.post("/logout", Some(seed::SESSION_2), json!({})).await.data();

    // The logged-out session's socket gets a close frame saying why, then ends.
    assert_eq!(ended.end(Duration::from_secs(10)).await, Ok(Some("signed out".into())));

    // The same user's other session keeps receiving.
    let sent = app
        .post(
            "/conversations/send-message",
            Some(seed::ASSER_SESSION),
            json!({"recipientId": seed::TEST_TESTER, "text": "still here?"}),
        )
        .await;
    sent.data();
    assert_eq!(kept.event().await["payload"]["text"], "still here?");
}
