use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use nosebook_schema::schema::{user_sessions, users};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{seed, spawn_app, spawn_compat_app};

fn registration(nick: &str) -> serde_json::Value {
    json!({"firstName": "test", "lastName": "test", "nick": nick, "password": "password123"})
}

#[actix_web::test]
async fn register_answers_the_self_user_and_a_session() {
    let app = spawn_app().await;
    let answer = app.post("/register", None, registration("test_nick2")).await;
    assert_eq!(answer.status, StatusCode::OK);
    insta::assert_json_snapshot!(answer.body, {
        ".data.user.id" => "[user id]",
        ".data.session.userId" => "[user id]",
        ".data.session.sessionId" => "[session id]",
    });
    assert_eq!(answer.data()["user"]["id"], answer.data()["session"]["userId"]);
    assert!(!answer.text.contains("passhash"), "no password hash on the wire");

    // The session works at once.
    let session = answer.data()["session"]["sessionId"].as_str().unwrap().to_owned();
    let me = app.get("/whoami", Some(&session)).await;
    assert_eq!(me.data()["nick"], "test_nick2");
}

#[actix_web::test]
async fn register_stores_an_argon2id_hash() {
    let app = spawn_app().await;
    let (id, _) = app.register("hashed").await;
    let stored: String = users::table
        .filter(users::id.eq(uuid::Uuid::parse_str(&id).unwrap()))
        .select(users::passhash)
        .first(&mut app.db().await)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
}

#[actix_web::test]
async fn register_refuses_a_taken_nick_whatever_its_case() {
    let app = spawn_app().await;
    app.register("alice").await;
    for nick in ["alice", "ALICE"] {
        let answer = app.post("/register", None, registration(nick)).await;
        assert_eq!(answer.status, StatusCode::CONFLICT);
        assert_eq!(answer.error_type(), "NickError");
        assert_eq!(answer.error_message(), "Логин занят");
    }
}

#[actix_web::test]
async fn register_validates_every_field() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), vec!["FirstName' failed on the 'required' tag", "LastName", "Nick", "Password"]),
        (
            json!({"firstName": "  ", "lastName": "b", "nick": "okay", "password": "password123"}),
            vec!["'FirstName' failed on the 'required' tag"],
        ),
        (
            json!({"firstName": "a".repeat(65), "lastName": "b", "nick": "okay", "password": "password123"}),
            vec!["FirstName must be 1 to 64"],
        ),
        (
            json!({"firstName": "a", "lastName": "b\u{0007}", "nick": "okay", "password": "password123"}),
            vec!["LastName must be"],
        ),
        (
            json!({"firstName": "a", "lastName": "b", "nick": "ab", "password": "password123"}),
            vec!["Nick must be 3 to 32"],
        ),
        (
            json!({"firstName": "a", "lastName": "b", "nick": "has space", "password": "password123"}),
            vec!["Nick must be"],
        ),
        (
            json!({"firstName": "a", "lastName": "b", "nick": "okay", "password": "short"}),
            vec!["Password must be 8 to 256 bytes"],
        ),
        (
            json!({"firstName": "a", "lastName": "b", "nick": "okay", "password": "x".repeat(257)}),
            vec!["Password must be"],
        ),
        (
            json!({"firstName": null, "lastName": "b", "nick": "okay", "password": "password123"}),
            vec!["'FirstName' failed on the 'required' tag"],
        ),
    ];
    for (body, expected) in cases {
        let answer = app.post("/register", None, body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.error_type(), "Unknown");
        for fragment in expected {
            assert!(answer.error_message().contains(fragment), "{body}: {}", answer.error_message());
        }
    }
    // Every problem is reported at once, one per line, in the original's words.
    let all = app.post("/register", None, json!({})).await;
    assert_eq!(
        all.error_message().lines().next(),
        Some(
            "Key: 'RegisterUserCommand.FirstName' Error:Field validation for 'FirstName' failed on the 'required' tag"
        )
    );
    assert_eq!(all.error_message().lines().count(), 4);
}

#[actix_web::test]
async fn bad_json_is_a_400_never_a_500() {
    let app = spawn_app().await;
    for (body, expected) in [
        ("", "EOF"),
        ("{", "EOF while parsing"),
        ("not json", "expected"),
        (r#"{"nick": 5}"#, "invalid type"),
        ("[1]", "invalid type"),
    ] {
        for route in ["/register", "/login"] {
            let answer = app.post_raw(route, None, body).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{route} {body:?}");
            assert_eq!(answer.error_type(), "Unknown");
            assert!(answer.error_message().contains(expected), "{route} {body:?}: {}", answer.error_message());
        }
    }
}

#[actix_web::test]
async fn bodies_are_json_whatever_the_content_type_and_unknown_fields_are_ignored() {
    let app = spawn_app().await;
    let body = r#"{"firstName":"a","lastName":"b","nick":"k6_user","password":"password123","extra":1}"#;
    let answer = app.send_with_content_type("/register", body, "text/plain").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[actix_web::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = spawn_app().await;
    let answer = app.post_raw("/login", None, "x".repeat(200 * 1024)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[actix_web::test]
async fn login_with_the_seed_password_upgrades_bcrypt_to_argon2id() {
    let app = spawn_compat_app().await;
    let answer = app.post("/login", None, json!({"nick": "test_tester", "password": seed::PASSWORD})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    insta::assert_json_snapshot!(answer.body, { ".data.session.sessionId" => "[session id]" });

    let stored: String = users::table
        .filter(users::nick.eq("test_tester"))
        .select(users::passhash)
        .first(&mut app.db().await)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "bcrypt hash was not upgraded: {stored}");

    // The upgraded hash still verifies, and the old password is still the password.
    let again = app.post("/login", None, json!({"nick": "test_tester", "password": seed::PASSWORD})).await;
    assert_eq!(again.status, StatusCode::OK);
    let wrong = app.post("/login", None, json!({"nick": "test_tester", "password": "nope-nope"})).await;
    assert_eq!(wrong.error_type(), "PasswordError");
}

#[actix_web::test]
async fn login_refusals() {
    let app = spawn_compat_app().await;
    let unknown = app.post("/login", None, json!({"nick": "nobody_here", "password": "whatever1"})).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.error_type(), "NickError");
    assert_eq!(unknown.error_message(), "Пользователь с таким логином отсутствует");

    let wrong = app.post("/login", None, json!({"nick": "drugtester", "password": "123123124"})).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_type(), "PasswordError");
    assert_eq!(wrong.error_message(), "Некорректный пароль");

    let missing = app.post("/login", None, json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.error_message(),
        "Key: 'LoginCommand.Nick' Error:Field validation for 'Nick' failed on the 'required' tag\n\
         Key: 'LoginCommand.Password' Error:Field validation for 'Password' failed on the 'required' tag"
    );
    let huge = app.post("/login", None, json!({"nick": "drugtester", "password": "x".repeat(300)})).await;
    assert_eq!(huge.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn nicks_match_regardless_of_case_at_login() {
    let app = spawn_app().await;
    app.register("MixedCase").await;
    let answer = app.post("/login", None, json!({"nick": "mixedcase", "password": "password123"})).await;
    assert_eq!(answer.data()["user"]["nick"], "MixedCase");
}

#[actix_web::test]
async fn signed_in_callers_cannot_register_or_log_in() {
    let app = spawn_compat_app().await;
    for route in ["/register", "/login"] {
        let answer = app.post(route, Some(seed::SESSION), json!({})).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(answer.error_type(), "Authenticated");
        assert_eq!(answer.error_message(), "Only unauthenticated users can do it");
    }
}

#[actix_web::test]
async fn anonymous_callers_get_403_on_every_authenticated_route() {
    let app = spawn_compat_app().await;
    let gets = ["/whoami", "/users/ed1a3fd0-4d0b-4961-b4cd-cf212357740d", "/users?text=test"];
    for path in gets {
        for session in [None, Some("not-a-uuid"), Some("00000000-0000-0000-0000-000000000000")] {
            let answer = app.get(path, session).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {session:?}");
            assert_eq!(answer.error_type(), "Not Authenticated");
            assert_eq!(answer.error_message(), "You are not authenticated");
        }
    }
    // The body of an anonymous command is not even parsed.
    let logout = app.post_raw("/logout", None, "{broken").await;
    assert_eq!(logout.error_type(), "Not Authenticated");
}

#[actix_web::test]
async fn whoami_shows_the_caller_active_now() {
    let app = spawn_compat_app().await;
    let answer = app.get("/whoami", Some(seed::SESSION)).await;
    insta::assert_json_snapshot!(answer.body);
}

#[actix_web::test]
async fn logout_ends_only_that_session_at_once() {
    let app = spawn_compat_app().await;
    // Both sessions are in use (and cached by their session actors) before the logout.
    assert_eq!(app.get("/whoami", Some(seed::SESSION)).await.status, StatusCode::OK);
    assert_eq!(app.get("/whoami", Some(seed::SESSION_2)).await.status, StatusCode::OK);

    let answer = app.post_raw("/logout", Some(seed::SESSION_2), "ignored, not parsed").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    insta::assert_json_snapshot!(answer.body);

    let after = app.get("/whoami", Some(seed::SESSION_2)).await;
    assert_eq!(after.status, StatusCode::FORBIDDEN);
    assert_eq!(after.error_type(), "Not Authenticated");
    let again = app.post("/logout", Some(seed::SESSION_2), json!({})).await;
    assert_eq!(again.error_type(), "Not Authenticated");
    assert_eq!(app.get("/whoami", Some(seed::SESSION)).await.status, StatusCode::OK);

    let left: i64 = user_sessions::table
        .filter(user_sessions::session_id.eq(uuid::Uuid::parse_str(seed::SESSION_2).unwrap()))
        .count()
        .get_result(&mut app.db().await)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
