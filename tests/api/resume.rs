//! Resumable sockets (docs/API.md §6.4): a socket cut for a while comes back with its last
//! cursor and gets exactly what it missed, then the live stream; a cursor the server cannot
//! serve gets `resync_required`.

use serde_json::{Value, json};

use crate::helpers::{Env, Socket, TestApp, seed, spawn_app_in, spawn_app_with};
use crate::support::fresh_database;

async fn compat_app(env: Env, extra: &[(&str, String)]) -> TestApp {
    let url = fresh_database().await;
    let mut conn = crate::support::connect(&url).await;
    nosebook::seed::compat::load(&mut conn).await.unwrap();
    match extra {
        [] => spawn_app_in(env, url).await,
        extra => spawn_app_with(env, url, None, extra).await,
    }
}

/// The tester writes `text` to asser; answered 200.
async fn send(app: &TestApp, text: &str) {
    let sent = app
        .post("/conversations/send-message", Some(seed::SESSION), json!({"recipientId": seed::ASS_ASSER, "text": text}))
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
}

/// The next `new_message` on `socket`: its text and cursor.
async fn message(socket: &mut Socket) -> (String, String) {
    let event = socket.frame().await;
    assert_eq!(event["type"], "new_message", "{event}");
    let cursor = event["cursor"].as_str().expect("every stored event carries its cursor").to_owned();
    (event["payload"]["text"].as_str().unwrap().to_owned(), cursor)
}

async fn status(socket: &mut Socket, kind: &str) -> Value {
    let event = socket.event().await;
    assert_eq!(event["type"], kind, "{event}");
    event["payload"].clone()
}

/// A socket that asks for cursors from the start (`?cursor=`), past its `ready`.
async fn watching(app: &TestApp) -> Socket {
    let mut watcher = app.resuming_socket(seed::ASSER_SESSION, "").await;
    status(&mut watcher, "ready").await;
    watcher
}

/// `watcher` stays open: once it has an event, the node has read it into its history.
async fn resume_after_a_cut(env: Env) {
    let app = compat_app(env, &[]).await;
    let mut watcher = watching(&app).await;
    let mut phone = app.resuming_socket(seed::ASSER_SESSION, "").await;
    let ready = status(&mut phone, "ready").await;
    assert!(ready["cursor"].is_string() || ready["cursor"].is_null(), "{ready}");

    send(&app, "before the tunnel").await;
    let (text, cursor) = message(&mut phone).await;
    assert_eq!(text, "before the tunnel");
    let (_, watched) = message(&mut watcher).await;
    assert_eq!(watched, cursor, "the cursor is the event's place in the log, the same on every socket");
    phone.close().await;

    for text in ["in the tunnel 1", "in the tunnel 2"] {
        send(&app, text).await;
        assert_eq!(message(&mut watcher).await.0, text);
    }
    let mut phone = app.resuming_socket(seed::ASSER_SESSION, &cursor).await;
    let resumed = status(&mut phone, "resumed").await;
    assert_eq!(resumed["missed"], 2, "{resumed}");
    let (first, c1) = message(&mut phone).await;
    let (second, c2) = message(&mut phone).await;
    assert_eq!([first.as_str(), second.as_str()], ["in the tunnel 1", "in the tunnel 2"]);
    assert_eq!(resumed["cursor"].as_str(), Some(c2.as_str()), "resumed names the last event it replays");
    assert_ne!(c1, c2);
    // Then the live stream, nothing twice.
    send(&app, "out of the tunnel").await;
    assert_eq!(message(&mut phone).await.0, "out of the tunnel");
    phone.silent().await;

    // Resuming from the newest cursor misses nothing and replays nothing.
    let (_, newest) = message(&mut watcher).await;
    let mut tab = app.resuming_socket(seed::ASSER_SESSION, &newest).await;
    let resumed = status(&mut tab, "resumed").await;
    assert_eq!(resumed["missed"], 0, "{resumed}");
    tab.silent().await;
}

#[actix_web::test]
async fn a_socket_resumed_through_the_broker_gets_exactly_what_it_missed_then_the_live_stream() {
    resume_after_a_cut(Env::Testing).await;
}

#[actix_web::test]
async fn a_socket_resumed_on_a_single_node_gets_exactly_what_it_missed_then_the_live_stream() {
    resume_after_a_cut(Env::TestingWithoutBroker).await;
}

#[actix_web::test]
async fn a_cursor_the_node_cannot_serve_asks_for_a_resync_and_the_socket_goes_on_live() {
    // A window of nothing: every event is forgotten as soon as it is read.
    let app = compat_app(Env::Testing, &[("NOSEBOOK_RESUME_WINDOW_SECS", "0".into())]).await;
    let mut watcher = watching(&app).await;
    send(&app, "one").await;
    let (_, cursor) = message(&mut watcher).await;
    send(&app, "two").await;
    message(&mut watcher).await;

    let mut phone = app.resuming_socket(seed::ASSER_SESSION, &cursor).await;
    let resync = status(&mut phone, "resync_required").await;
    let current = resync["cursor"].as_str().expect("the cursor to go on from").to_owned();
    assert_ne!(current, cursor);
    send(&app, "three").await;
    assert_eq!(message(&mut phone).await.0, "three", "after a resync the socket is live");

    let future = format!("{}:999999999", current.rsplit_once(':').unwrap().0);
    for (cursor, why) in [("garbage", "not a cursor"), ("elsewhere.log:1", "another log"), (&future, "the future")] {
        let mut socket = app.resuming_socket(seed::ASSER_SESSION, cursor).await;
        let payload = status(&mut socket, "resync_required").await;
        assert!(payload["cursor"].is_string(), "{why}: {payload}");
    }
}

/// A socket opened without `?cursor` gets the original's frames, `{type, payload}` and nothing
/// else (the original suite snapshots whole frames); a socket beside it that resumes gets the
/// same event with its cursor.
async fn original_frames(env: Env) {
    let app = compat_app(env, &[]).await;
    let mut plain = app.socket(seed::ASSER_SESSION).await;
    let mut resuming = watching(&app).await;
    send(&app, "hi").await;
    let original = plain.frame().await;
    let mut keys: Vec<&String> = original.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["payload", "type"], "the first frame is the event itself, as the original sent it: {original}");
    assert_eq!(original["payload"]["text"], "hi");
    let mut cursored = resuming.frame().await;
    assert!(cursored["cursor"].is_string(), "{cursored}");
    cursored.as_object_mut().unwrap().remove("cursor");
    assert_eq!(cursored, original, "the same event, with its cursor only where asked for");
}

#[actix_web::test]
async fn a_socket_without_a_cursor_gets_the_original_frames_through_the_broker() {
    original_frames(Env::Testing).await;
}

#[actix_web::test]
async fn a_socket_without_a_cursor_gets_the_original_frames_on_a_single_node() {
    original_frames(Env::TestingWithoutBroker).await;
}

#[actix_web::test]
async fn the_original_protocol_has_no_status_frames_and_a_too_long_cursor_is_refused() {
    let app = compat_app(Env::TestingWithoutBroker, &[]).await;
    let mut plain = app.socket(seed::ASSER_SESSION).await;
    send(&app, "hi").await;
    assert_eq!(plain.event().await["payload"]["text"], "hi", "the first frame is the event itself");
    let long = "x".repeat(300);
    let status = app.try_socket_at(seed::ASSER_SESSION, &format!("/ws?cursor={long}")).await.err();
    assert_eq!(status, Some(400));
}
