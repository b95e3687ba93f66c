//! Limits on abuse (docs/configuration.md, "Limits"): each refuses with 429, `Retry-After` and
//! the envelope once its threshold is passed, with small thresholds set through the settings.

use chrono::{Duration, TimeZone, Utc};
use nosebook_schema::time::Clock;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Answer, Env, TestApp, spawn_app_with};
use crate::support::fresh_database;

async fn app_with(env: Env, limits: &[(&str, &str)]) -> TestApp {
    let extra: Vec<(&str, String)> = limits.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    spawn_app_with(env, fresh_database().await, None, &extra).await
}

fn retry_after(answer: &Answer) -> u64 {
    answer.headers.get("retry-after").expect("a 429 says when to retry").to_str().unwrap().parse().unwrap()
}

/// A 429 in the usual envelope; answers its `Retry-After`.
fn throttled(answer: &Answer) -> u64 {
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{}", answer.text);
    assert_eq!(answer.error_type(), "Too Many Requests");
    let secs = retry_after(answer);
    assert!(secs >= 1);
    let unit = if secs == 1 { "second" } else { "seconds" };
    assert!(answer.error_message().ends_with(&format!("try again in {secs} {unit}")), "{}", answer.text);
    secs
}

async fn login(app: &TestApp, nick: &str, password: &str) -> Answer {
    app.post("/login", None, json!({"nick": nick, "password": password})).await
}

async fn rate_limited(app: &TestApp, limit: &str) -> f64 {
    let text = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap().text().await.unwrap();
    let series = format!("nosebook_rate_limited_total{{limit=\"{limit}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(&series)).map_or(0.0, |v| v.parse().unwrap())
}

#[actix_web::test]
async fn failed_logins_back_off_exponentially_up_to_the_cap_and_a_success_resets_them() {
    let clock = Clock::manual(Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10).unwrap());
    let app = app_with(
        Env::Manual(clock),
        &[("NOSEBOOK_LIMIT_LOGIN_FAILURES", "3"), ("NOSEBOOK_LIMIT_LOGIN_MAX_WAIT_SECS", "4")],
    )
    .await;
    app.register("victim").await;
    for _ in 0..3 {
        assert_eq!(login(&app, "victim", "wrong-guess").await.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is not checked.
    assert_eq!(throttled(&login(&app, "victim", "password123").await), 1);
    assert!(login(&app, "victim", "password123").await.error_message().starts_with("Too many failed logins"));

    // Once the wait is over one attempt is checked, and its failure doubles the wait, up to the
    // 4 s cap: 1 s, 2 s, 4 s, 4 s.
    for (wait, next_wait) in [(1, 2), (2, 4), (4, 4)] {
        clock.advance(Duration::seconds(wait));
        assert_eq!(login(&app, "victim", "wrong-guess").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(throttled(&login(&app, "victim", "wrong-guess").await), next_wait);
    }

    // The lock expires; a success forgives every failure.
    clock.advance(Duration::seconds(4));
    assert_eq!(login(&app, "victim", "password123").await.status, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(login(&app, "victim", "wrong-guess").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login(&app, "victim", "password123").await.status, StatusCode::OK);
    assert_eq!(rate_limited(&app, "login").await, 5.0);
}

#[actix_web::test]
async fn parallel_wrong_guesses_cannot_slip_past_the_count() {
    // Frozen clock: once locked, the account stays locked for the whole test.
    let app = app_with(Env::Testing, &[("NOSEBOOK_LIMIT_LOGIN_FAILURES", "3")]).await;
    app.register("target").await;
    let guesses = (0..24).map(|i| {
        let app = &app;
        async move { login(app, "target", &format!("guess-{i:04}")).await.status }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, refused), (3, 21), "{statuses:?}");
}

#[actix_web::test]
async fn unknown_nicks_answer_as_before_and_are_not_counted() {
    let app = app_with(Env::Testing, &[("NOSEBOOK_LIMIT_LOGIN_FAILURES", "2")]).await;
    for _ in 0..5 {
        let answer = login(&app, "nobody_here", "whatever-1").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.error_type(), "NickError");
    }
}

#[actix_web::test]
async fn the_web_login_honours_the_same_limit() {
    let app = app_with(Env::Testing, &[("NOSEBOOK_LIMIT_LOGIN_FAILURES", "2")]).await;
    app.register("webby").await;
    let submit = |password: &'static str| {
        app.client
            .post(format!("{}/app/login", app.address))
            .header("Accept-Language", "en")
            .form(&[("nick", "webby"), ("password", password)])
            .send()
    };
    for _ in 0..2 {
        assert_eq!(submit("wrong-guess").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let page = submit("password123").await.unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers().contains_key("retry-after"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Too many wrong passwords for this account"), "{html}");
    // The API sees the same count.
    throttled(&login(&app, "webby", "password123").await);
}

fn registration(nick: &str) -> serde_json::Value {
    json!({"firstName": "Test", "lastName": "Person", "nick": nick, "password": "password123"})
}

async fn register_from(app: &TestApp, nick: &str, forwarded_for: Option<&str>) -> Answer {
    let mut request = app.client.post(format!("{}/register", app.address)).json(&registration(nick));
    if let Some(addr) = forwarded_for {
        request = request.header("X-Forwarded-For", addr);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.unwrap();
    Answer { status, body: serde_json::from_str(&text).unwrap_or_default(), text, headers }
}

#[actix_web::test]
async fn sign_ups_per_address_and_a_forwarded_address_only_from_a_trusted_proxy() {
    let app = app_with(Env::Testing, &[("NOSEBOOK_LIMIT_SIGNUPS_PER_HOUR", "2")]).await;
    assert_eq!(register_from(&app, "first", None).await.status, StatusCode::OK);
    // A refused form is not counted.
    assert_eq!(register_from(&app, "x", None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(register_from(&app, "second", None).await.status, StatusCode::OK);
    let third = register_from(&app, "third", None).await;
    let wait = throttled(&third);
    assert!(wait <= 1800, "two an hour: the next one within half an hour, not {wait} s");
    // Nobody vouches for the header: it cannot buy a new address.
    throttled(&register_from(&app, "third", Some("198.51.100.7")).await);
    assert!(rate_limited(&app, "signup").await >= 2.0);

    let behind_proxy =
        app_with(Env::Testing, &[("NOSEBOOK_LIMIT_SIGNUPS_PER_HOUR", "1"), ("NOSEBOOK_TRUSTED_PROXIES", "127.0.0.1")])
            .await;
    assert_eq!(register_from(&behind_proxy, "one", Some("198.51.100.7")).await.status, StatusCode::OK);
    throttled(&register_from(&behind_proxy, "two", Some("198.51.100.7")).await);
    assert_eq!(register_from(&behind_proxy, "three", Some("198.51.100.8")).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn writes_per_user_leave_reads_others_and_logout_alone() {
    let app = app_with(Env::Testing, &[("NOSEBOOK_LIMIT_WRITES", "0.001,3")]).await;
    let (alice, alice_session) = app.register("alice").await;
    let (_, bob_session) = app.register("bob").await;
    let post = |session: String| {
        let app = &app;
        let alice = alice.clone();
        async move { app.post("/posts/publish", Some(&session), json!({"ownerId": alice, "message": "hi"})).await }
    };
    for _ in 0..3 {
        assert_eq!(post(alice_session.clone()).await.status, StatusCode::OK);
    }
    let refused = post(alice_session.clone()).await;
    assert!(throttled(&refused) > 100, "one token in 1000 s");
    // Another kind of write shares the bucket.
    let message =
        app.post("/conversations/send-message", Some(&alice_session), json!({"recipientId": alice, "text": "x"}));
    throttled(&message.await);
    // Others, reads and logging out are not affected.
    assert_eq!(post(bob_session).await.status, StatusCode::OK);
    assert_eq!(app.get("/whoami", Some(&alice_session)).await.status, StatusCode::OK);
    assert_eq!(app.post("/logout", Some(&alice_session), json!({})).await.status, StatusCode::OK);
    assert!(rate_limited(&app, "write").await >= 2.0);
}

#[actix_web::test]
async fn socket_upgrades_per_address() {
    let app = app_with(
        Env::Testing,
        &[("NOSEBOOK_LIMIT_WS_UPGRADES", "0.001,2"), ("NOSEBOOK_LIMIT_SOCKETS_PER_SESSION", "off")],
    )
    .await;
    let (_, session) = app.register("sockety").await;
    let _first = app.socket(&session).await;
    let _second = app.socket(&session).await;
    let (status, retry) = app_refusal(&app, &session).await;
    assert_eq!(status, 429);
    assert!(retry.unwrap().parse::<u64>().unwrap() > 100);
    assert!(rate_limited(&app, "ws_upgrade").await >= 1.0);
}

async fn app_refusal(app: &TestApp, session: &str) -> (u16, Option<String>) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("{}/ws", app.address.replacen("http", "ws", 1)).into_client_request().unwrap();
    request.headers_mut().insert("X-Auth-Session-Id", session.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => panic!("the upgrade was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body = response.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            assert!(body.contains("Too Many Requests"), "{body}");
            (response.status().as_u16(), response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned()))
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[actix_web::test]
async fn open_sockets_per_session_and_a_closed_one_frees_its_place() {
    let app = app_with(Env::Testing, &[("NOSEBOOK_LIMIT_SOCKETS_PER_SESSION", "2")]).await;
    let (_, session) = app.register("tabby").await;
    let first = app.socket(&session).await;
    let _second = app.socket(&session).await;
    let (status, retry) = app_refusal(&app, &session).await;
    assert_eq!(status, 429);
    assert!(retry.is_some());
    assert!(rate_limited(&app, "ws_per_session").await >= 1.0);

    // Another session of the same person has its own places.
    let other = login(&app, "tabby", "password123").await;
    let other_session = other.data()["session"]["sessionId"].as_str().unwrap().to_owned();
    let _third = app.socket(&other_session).await;

    // Closing a socket gives its place back (once the server has seen it close).
    first.close().await;
    let mut reopened = None;
    for _ in 0..200 {
        match app.try_socket(&session).await {
            Ok(socket) => {
                reopened = Some(socket);
                break;
            }
            Err(429) => tokio::time::sleep(std::time::Duration::from_millis(25)).await,
            Err(other) => panic!("unexpected refusal {other}"),
        }
    }
    assert!(reopened.is_some(), "the closed socket's place never came back");
}

#[actix_web::test]
async fn the_api_description_names_every_429() {
    let app = crate::helpers::spawn_app().await;
    let doc = app.get("/openapi.json", None).await.body;
    for (path, method) in [
        ("/login", "post"),
        ("/register", "post"),
        ("/ws", "get"),
        ("/posts/publish", "post"),
        ("/chats/rename", "post"),
    ] {
        let throttled = &doc["paths"][path][method]["responses"]["429"];
        assert!(throttled["headers"]["Retry-After"].is_object(), "{path}: {throttled}");
    }
    assert!(doc["paths"]["/logout"]["post"]["responses"]["429"].is_null(), "logging out is never refused");
}

#[actix_web::test]
async fn the_web_app_counts_its_writes_too_and_answers_a_page() {
    let app = app_with(Env::Testing, &[("NOSEBOOK_LIMIT_WRITES", "0.001,1")]).await;
    let (user, session) = app.register("pager").await;
    let cookie = format!("nosebook_session={session}:{user}");
    let like = || {
        app.client
            .post(format!("{}/app/posts/{user}/like", app.address))
            .header("Cookie", cookie.clone())
            .header("Accept-Language", "en")
            .send()
    };
    // The first goes through to the page handler (which refuses it for want of a CSRF token).
    assert_ne!(like().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    let page = like().await.unwrap();
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers().contains_key("retry-after"));
    let html = page.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Slow down"), "{html}");
    // The API shares the bucket.
    throttled(&app.post("/posts/publish", Some(&session), json!({"ownerId": user, "message": "hi"})).await);
}
