//! `NOSEBOOK_BODY_TIMEOUT_SECS`: a request body that does not arrive in time ends in 408 on a
//! closed connection; a WebSocket, whose "body" is the socket itself, is not cut off.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Env, TestApp, spawn_app_with};
use crate::support::fresh_database;

async fn app_with_a_short_body_timeout() -> TestApp {
    let extra = [("NOSEBOOK_BODY_TIMEOUT_SECS", "1".to_owned())];
    spawn_app_with(Env::Testing, fresh_database().await, None, &extra).await
}

#[actix_web::test]
async fn a_body_that_stops_arriving_gets_408_and_the_connection_is_closed() {
    let app = app_with_a_short_body_timeout().await;
    let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap();
    // 100 bytes announced, 10 sent, and then nothing.
    let head =
        "POST /login HTTP/1.1\r\nHost: nosebook\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(br#"{"nick":"a"#).await.unwrap();

    let mut answer = Vec::new();
    // Only so that a server that never answers fails this test rather than hanging it.
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer))
        .await
        .expect("the server neither answered nor closed the connection")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{answer}");
    assert!(answer.to_lowercase().contains("\r\nconnection: close\r\n"), "{answer}");
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(body).unwrap(),
        json!({"ok": false, "errors": [{"type": "Unknown", "message": "The request body did not arrive within 1 s"}]})
    );
}

#[actix_web::test]
async fn bodies_that_arrive_and_websockets_that_stay_open_are_not_cut_off() {
    let app = app_with_a_short_body_timeout().await;
    let (alice, alice_session) = app.register("prompt_alice").await;
    let (_, bob_session) = app.register("prompt_bob").await;
    let mut socket = app.socket(&alice_session).await;
    // Longer than the body timeout: an upgraded connection's stream must not be behind it.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let sent = app
        .post("/conversations/send-message", Some(&bob_session), json!({"recipientId": alice, "text": "still there?"}))
        .await;
    sent.data();
    let event = socket.event().await;
    assert_eq!(event["type"], "new_message");
    assert_eq!(event["payload"]["text"], "still there?");
}
