//! Sessions and activity (docs/API.md §4): expiry, sliding expiry, activity written before the
//! handler, and coalesced writes with the real clock.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use nosebook_schema::schema::{user_sessions, users};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Env, seed, spawn_app_in, spawn_compat_app};
use crate::support::fresh_database;

fn frozen_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 8, 10, 10, 10, 10).unwrap()
}

async fn activity_of(conn: &mut nosebook_schema::AsyncPgConnection, user: &str) -> DateTime<Utc> {
    users::table
        .filter(users::id.eq(Uuid::parse_str(user).unwrap()))
        .select(users::last_activity_at)
        .first(conn)
        .await
        .unwrap()
}

/// The stored activity once it equals `expected`, or as it is after ten seconds.
async fn activity_once_landed(
    conn: &mut nosebook_schema::AsyncPgConnection,
    user: &str,
    expected: DateTime<chrono::FixedOffset>,
) -> DateTime<Utc> {
    let mut stored = activity_of(conn, user).await;
    for _ in 0..100 {
        if stored == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        stored = activity_of(conn, user).await;
    }
    stored
}

async fn expiry_of(conn: &mut nosebook_schema::AsyncPgConnection, session: &str) -> DateTime<Utc> {
    user_sessions::table
        .filter(user_sessions::session_id.eq(Uuid::parse_str(session).unwrap()))
        .select(user_sessions::expires_at)
        .first(conn)
        .await
        .unwrap()
}

async fn insert_session(app: &crate::helpers::TestApp, user: &str, expires_at: DateTime<Utc>) -> String {
    let id = Uuid::new_v4();
    diesel::insert_into(user_sessions::table)
        .values((
            user_sessions::session_id.eq(id),
            user_sessions::user_id.eq(Uuid::parse_str(user).unwrap()),
            user_sessions::created_at.eq(expires_at - chrono::Duration::hours(48)),
            user_sessions::expires_at.eq(expires_at),
        ))
        .execute(&mut app.db().await)
        .await
        .unwrap();
    id.to_string()
}

#[actix_web::test]
async fn a_session_expiring_now_is_expired_and_one_expiring_later_is_valid() {
    let app = spawn_compat_app().await;
    let expired = insert_session(&app, seed::DRUGTESTER, frozen_now()).await;
    let answer = app.get("/whoami", Some(&expired)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.error_type(), "Not Authenticated");

    let valid = insert_session(&app, seed::DRUGTESTER, frozen_now() + chrono::Duration::seconds(1)).await;
    assert_eq!(app.get("/whoami", Some(&valid)).await.status, StatusCode::OK);
    // Sliding expiry: the request pushed it 48 h past now.
    assert_eq!(expiry_of(&mut app.db().await, &valid).await, frozen_now() + chrono::Duration::hours(48));
}

#[actix_web::test]
async fn activity_is_stored_before_the_handler_runs_even_for_failing_requests() {
    let app = spawn_compat_app().await;
    let login = app.post("/login", None, json!({"nick": "drugtester", "password": seed::PASSWORD})).await;
    // Login itself is not activity (docs/API.md §4).
    assert_eq!(login.data()["user"]["lastActivityAt"], "2024-08-10T10:01:02Z");
    let session = login.data()["session"]["sessionId"].as_str().unwrap().to_owned();
    let mut db = app.db().await;
    assert_eq!(activity_of(&mut db, seed::DRUGTESTER).await, Utc.with_ymd_and_hms(2024, 8, 10, 10, 1, 2).unwrap());

    // A 404 with a valid session still counts as activity.
    let missing = app.get("/no/such/route", Some(&session)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(activity_of(&mut db, seed::DRUGTESTER).await, frozen_now());

    let me = app.get(&format!("/users/{}", seed::DRUGTESTER), Some(&session)).await;
    assert_eq!(me.data()["online"], true);
    assert_eq!(me.data()["lastOnlineAt"], "2024-08-10T10:10:10Z");
}

#[actix_web::test]
async fn with_the_real_clock_writes_are_coalesced_and_the_newest_activity_wins() {
    let app = spawn_app_in(Env::Dev, fresh_database().await).await;
    let (user, session) = app.register("clocked").await;
    let first = app.get("/whoami", Some(&session)).await;
    let first_at = DateTime::parse_from_rfc3339(first.data()["lastActivityAt"].as_str().unwrap()).unwrap();
    let mut db = app.db().await;
    // The first request of a session writes at once.
    assert_eq!(activity_of(&mut db, &user).await, first_at);

    // The next ones within the flush interval are folded into one later write; user objects
    // built meanwhile already show the newer activity (the presence tracker has it).
    let profile = app.get(&format!("/users/{user}"), Some(&session)).await;
    let shown = DateTime::parse_from_rfc3339(profile.data()["lastOnlineAt"].as_str().unwrap()).unwrap();
    assert!(shown > first_at, "profile shows {shown}, first activity was {first_at}");
    let last = app.get("/whoami", Some(&session)).await;
    let last_at = DateTime::parse_from_rfc3339(last.data()["lastActivityAt"].as_str().unwrap()).unwrap();
    assert_eq!(last.data()["lastActivityAt"], last.data()["lastActivityAt"]);

    // Within a few seconds the database catches up with the newest request, expiry included.
    assert_eq!(activity_once_landed(&mut db, &user, last_at).await, last_at, "the coalesced write never landed");
    assert_eq!(expiry_of(&mut db, &session).await, last_at + chrono::Duration::hours(48));
}

#[actix_web::test]
async fn people_see_their_own_sessions_without_their_ids_and_can_end_one() {
    let app = spawn_compat_app().await;
    let login = app
        .client
        .post(format!("{}/login", app.address))
        .header("User-Agent", "Phone/1.0")
        .json(&json!({"nick": "test_tester", "password": seed::PASSWORD}))
        .send()
        .await
        .unwrap();
    let login: serde_json::Value = login.json().await.unwrap();
    let phone = login["data"]["session"]["sessionId"].as_str().unwrap().to_owned();

    let listed = app.get("/sessions", Some(seed::SESSION)).await;
    let listed = listed.data().as_array().unwrap().clone();
    assert!(listed.len() >= 3, "{listed:?}");
    assert!(!listed.iter().any(|s| s.to_string().contains(&phone) || s.to_string().contains(seed::SESSION_2)));
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_entry = listed.iter().find(|s| s["userAgent"] == "Phone/1.0").expect("the phone's session is listed");
    assert_eq!(phone_entry["current"], false);

    // Nobody else sees them, and nobody else can end them.
    let others = app.get("/sessions", Some(seed::ASSER_SESSION)).await;
    assert!(!others.data().as_array().unwrap().iter().any(|s| s["handle"] == phone_entry["handle"]));
    let foreign = app.post("/sessions/end", Some(seed::ASSER_SESSION), json!({"handle": phone_entry["handle"]})).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);

    let mut phone_socket = app.socket(&phone).await;
    let ended = app.post("/sessions/end", Some(seed::SESSION), json!({"handle": phone_entry["handle"]})).await;
    assert_eq!(ended.data(), true);
    assert_eq!(phone_socket.end(std::time::Duration::from_secs(10)).await, Ok(Some("signed out".into())));
    assert_eq!(app.get("/whoami", Some(&phone)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/whoami", Some(seed::SESSION)).await.status, StatusCode::OK);
    let again = app.post("/sessions/end", Some(seed::SESSION), json!({"handle": phone_entry["handle"]})).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn changing_the_password_ends_every_other_session() {
    let app = spawn_compat_app().await;
    let mut other_socket = app.socket(seed::SESSION_2).await;
    let change = |old: &str, new: &str| json!({"oldPassword": old, "newPassword": new});

    let wrong = app.post("/users/change-password", Some(seed::SESSION), change("not it at all", "a new secret")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error_type(), "PasswordError");
    let short = app.post("/users/change-password", Some(seed::SESSION), change(seed::PASSWORD, "short")).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.error_message().contains("NewPassword"), "{}", short.text);
    let missing = app.post("/users/change-password", Some(seed::SESSION), json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/whoami", Some(seed::SESSION_2)).await.status, StatusCode::OK, "nothing changed yet");

    let changed = app.post("/users/change-password", Some(seed::SESSION), change(seed::PASSWORD, "a new secret")).await;
    assert!(changed.data()["endedSessions"].as_u64().unwrap() >= 1, "{}", changed.text);
    assert_eq!(other_socket.end(std::time::Duration::from_secs(10)).await, Ok(Some("signed out".into())));
    assert_eq!(app.get("/whoami", Some(seed::SESSION_2)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/whoami", Some(seed::SESSION)).await.status, StatusCode::OK);

    let old = app.post("/login", None, json!({"nick": "test_tester", "password": seed::PASSWORD})).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app.post("/login", None, json!({"nick": "test_tester", "password": "a new secret"})).await;
    assert_eq!(new.status, StatusCode::OK);
}

#[actix_web::test]
async fn the_settings_page_lists_sessions_changes_the_password_and_ends_a_session() {
    let app = spawn_compat_app().await;
    let session = nosebook_schema::ids::SessionId(Uuid::parse_str(seed::SESSION).unwrap());
    let cookie = format!("nosebook_session={}:{}", seed::SESSION, seed::TEST_TESTER);
    let csrf = nosebook::web::csrf::token(session);
    let page = |path: &str| app.client.get(format!("{}{path}", app.address)).header("Cookie", cookie.clone());
    let post = |path: &str, form: String| {
        app.client
            .post(format!("{}{path}", app.address))
            .header("Cookie", cookie.clone())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
    };

    let html = page("/app/settings").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Where you are signed in"), "{html}");
    assert!(!html.contains(seed::SESSION_2), "a session id must never be on the page");
    let other = nosebook_schema::ids::SessionId(Uuid::parse_str(seed::SESSION_2).unwrap());
    let other_handle = nosebook::api::accounts::sessions::handle(other);
    assert!(html.contains(&other_handle));

    // A form without the token is refused; with it, the other session ends.
    let forged = post(&format!("/app/settings/sessions/{other_handle}/end"), "csrf=nope".into()).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/whoami", Some(seed::SESSION_2)).await.status, StatusCode::OK);
    let ended =
        post(&format!("/app/settings/sessions/{other_handle}/end"), format!("csrf={csrf}")).send().await.unwrap();
    assert!(ended.status().is_redirection(), "{}", ended.status());
    assert_eq!(app.get("/whoami", Some(seed::SESSION_2)).await.status, StatusCode::FORBIDDEN);

    let wrong = post("/app/settings/password", format!("csrf={csrf}&old_password=nope&new_password=long+enough"));
    let wrong = wrong.send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("The current password is wrong"));
    let form = format!("csrf={csrf}&old_password={}&new_password=long+enough", seed::PASSWORD);
    let changed = post("/app/settings/password", form).send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(changed.text().await.unwrap().contains("Password changed."));
    let login = app.post("/login", None, json!({"nick": "test_tester", "password": "long enough"})).await;
    assert_eq!(login.status, StatusCode::OK);
}

/// Backends of this test's database waiting for a row lock.
async fn lock_waiters(conn: &mut nosebook_schema::AsyncPgConnection) -> i64 {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result::<Waiting>(conn)
    .await
    .unwrap()
    .n
}

/// A request that is due to write activity while a flush of the same session is still in its
/// transaction must not wait for that flush's row locks: the actor would never poll the flush
/// again while the request's write waits, and both would hang for good (found by a 30-minute
/// soak, where it wedged the whole pool). Here the flush is held halfway by a lock the test
/// takes on the session's row.
#[actix_web::test]
async fn a_request_due_to_write_while_a_flush_is_halfway_does_not_wait_for_it() {
    let clock = nosebook_schema::time::Clock::manual(Utc::now());
    let app = spawn_app_in(Env::Manual(clock), fresh_database().await).await;
    let (user, session) = app.register("halfway").await;
    app.get("/whoami", Some(&session)).await.data();

    // The test holds the session's row: the next flush updates the user, then waits.
    let mut blocker = app.db().await;
    diesel::sql_query("BEGIN").execute(&mut blocker).await.unwrap();
    diesel::sql_query("SELECT 1 FROM user_sessions WHERE session_id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::Uuid, _>(Uuid::parse_str(&session).unwrap())
        .execute(&mut blocker)
        .await
        .unwrap();
    app.get("/whoami", Some(&session)).await.data();
    let mut watcher = app.db().await;
    while lock_waiters(&mut watcher).await == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Past the flush interval, a request is due to write; the flush still holds the user's row.
    clock.advance(chrono::Duration::seconds(10));
    let request = {
        let (address, client, session) = (app.address.clone(), app.client.clone(), session.clone());
        actix_web::rt::spawn(async move {
            client.get(format!("{address}/whoami")).header("X-Auth-Session-Id", session).send().await
        })
    };
    // Either it answers at once, or its write joins the queue for the user's row.
    while !request.is_finished() && lock_waiters(&mut watcher).await < 2 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    diesel::sql_query("COMMIT").execute(&mut blocker).await.unwrap();
    let answered = tokio::time::timeout(Duration::from_secs(20), request).await;
    let response = answered.expect("the request hung behind its own session's flush").unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let shown: serde_json::Value = response.json().await.unwrap();
    let shown_at = DateTime::parse_from_rfc3339(shown["data"]["lastActivityAt"].as_str().unwrap()).unwrap();

    // The flush finishes, and the activity that came in meanwhile follows it.
    let mut db = app.db().await;
    let stored = activity_once_landed(&mut db, &user, shown_at).await;
    assert_eq!(stored, shown_at, "the activity after the flush never landed");
}

/// Sessions new to a node that arrive while one is being read (a reconnect storm after another
/// node left) are read and touched together, one statement each. The lone first one is stored
/// before its answer; the crowd is answered first, each caller as themselves and active now,
/// and its activity stored right after.
#[actix_web::test]
async fn sessions_new_to_a_node_gather_into_one_load() {
    use diesel_async::SimpleAsyncConnection;
    use futures_util::future::join_all;

    use crate::observability::{scrape, value};

    const CROWD: usize = 30;
    let first = crate::helpers::spawn_app().await;
    let mut crowd = Vec::new();
    for i in 0..CROWD {
        crowd.push(first.register(&format!("storm_{i}")).await);
    }
    // A second node on the same database: none of these sessions has an actor there. Its clock
    // is an hour past the first's, so an activity it writes is told from the sign-ups'.
    let clock = nosebook_schema::time::Clock::manual(
        nosebook_schema::time::Clock::testing().now() + chrono::Duration::hours(1),
    );
    let node = spawn_app_in(Env::Manual(clock), first.db_url.clone()).await;
    let counters = |text: &str| {
        ["nosebook_session_loads_total", "nosebook_sessions_loaded_total", "nosebook_session_writes_total"]
            .map(|name| value(text, name, &[]).unwrap_or(0.0))
    };
    let before = counters(&scrape(&node).await);
    let asked_at = clock.now();

    // The sessions table held: the first load waits for it, and the others gather meanwhile.
    let mut holder = node.db().await;
    holder.batch_execute("BEGIN; LOCK TABLE user_sessions IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let gathered = async {
        let mut waiting = 0.0;
        for _ in 0..500 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            waiting = value(&scrape(&node).await, "nosebook_session_loads_waiting", &[]).unwrap_or(0.0);
            if waiting == (CROWD - 1) as f64 {
                break;
            }
        }
        holder.batch_execute("COMMIT").await.unwrap();
        assert_eq!(waiting, (CROWD - 1) as f64, "every session but the one being read waits for the next load");
    };
    let (answers, ()) =
        tokio::join!(join_all(crowd.iter().map(|(_, session)| node.get("/whoami", Some(session)))), gathered);
    for ((id, _), answer) in crowd.iter().zip(&answers) {
        assert_eq!(answer.data()["id"], id.as_str());
        let shown = DateTime::parse_from_rfc3339(answer.data()["lastActivityAt"].as_str().unwrap()).unwrap();
        assert_eq!(shown, asked_at, "a caller in the crowd sees themselves active now");
    }
    let after = counters(&scrape(&node).await);
    let [loads, loaded, writes] = [0, 1, 2].map(|i| after[i] - before[i]);
    assert_eq!((loads, loaded), (2.0, CROWD as f64), "the first alone, then the rest together");
    assert_eq!(writes, 0.0, "the loads wrote the crowd's activity, not one write per session");
    let mut db = node.db().await;
    for (id, _) in &crowd {
        let stored = activity_once_landed(&mut db, id, asked_at.fixed_offset()).await;
        assert_eq!(stored, asked_at, "the crowd's activity write landed for {id}");
    }
}
