use reqwest::StatusCode;

use crate::helpers::{seed, spawn_compat_app};

#[actix_web::test]
async fn a_user_online_and_a_user_offline() {
    let app = spawn_compat_app().await;
    let online = app.get(&format!("/users/{}", seed::TEST_TESTER), Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("users online GET /:id", online.body);
    let offline = app.get(&format!("/users/{}", seed::DRUGTESTER), Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("users offline GET /:id", offline.body);
    // Another online seed user: active at 10:10:02, which is within five minutes.
    let marina = app.get(&format!("/users/{}", seed::MARINA), Some(seed::SESSION)).await;
    assert_eq!(marina.data()["online"], true);
    assert_eq!(marina.data()["lastOnlineAt"], "2024-08-10T10:10:02Z");
}

#[actix_web::test]
async fn unknown_users_are_data_null_and_bad_ids_are_400() {
    let app = spawn_compat_app().await;
    let unknown = app.get("/users/00000000-0000-0000-0000-000000000001", Some(seed::SESSION)).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(unknown.text, r#"{"ok":true,"data":null}"#);

    for (id, message) in [
        ("abc", "invalid UUID length: 3"),
        ("zd1a3fd0-4d0b-4961-b4cd-cf212357740d", "invalid UUID format"),
        ("ed1a3fd0+4d0b-4961-b4cd-cf212357740d", "invalid UUID format"),
    ] {
        let answer = app.get(&format!("/users/{id}"), Some(seed::SESSION)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{id}");
        assert_eq!(answer.error_type(), "Unknown");
        assert_eq!(answer.error_message(), message);
    }
    // Go's other spellings of a UUID work.
    for id in ["ED1A3FD04D0B4961B4CDCF212357740D", "urn:uuid:ed1a3fd0-4d0b-4961-b4cd-cf212357740d"] {
        let answer = app.get(&format!("/users/{id}"), Some(seed::SESSION)).await;
        assert_eq!(answer.data()["nick"], "test_tester", "{id}");
    }
}

#[actix_web::test]
async fn search_matches_names_and_nicks() {
    let app = spawn_compat_app().await;
    let tester = app.get("/users?text=tester", Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("users GET /?text=tester", tester.body);
    let drug = app.get("/users?text=DRUG", Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("users GET /?text=drug", drug.body);
    // Across the fields: "Ilya Blinkov drugtester".
    let across = app.get("/users?text=blinkov%20drug", Some(seed::SESSION)).await;
    assert_eq!(across.data()["totalCount"], 1);
    let first_wins = app.get("/users?text=drug&text=tester", Some(seed::SESSION)).await;
    assert_eq!(first_wins.data()["totalCount"], 1);
}

#[actix_web::test]
async fn search_with_no_text_finds_nobody() {
    let app = spawn_compat_app().await;
    for query in ["", "?text=", "?next="] {
        let answer = app.get(&format!("/users{query}"), Some(seed::SESSION)).await;
        assert_eq!(answer.text, r#"{"ok":true,"data":{"data":[],"totalCount":0}}"#, "{query}");
    }
}

#[actix_web::test]
async fn percent_and_underscore_are_literal() {
    let app = spawn_compat_app().await;
    let percent = app.get("/users?text=%25", Some(seed::SESSION)).await;
    assert_eq!(percent.data()["totalCount"], 0, "% must not match everyone");
    // virtual_user_0..5 have "al_"; as a wildcard it would also find "Sanal Sanal sanal".
    let underscore = app.get("/users?text=al_", Some(seed::SESSION)).await;
    assert_eq!(underscore.data()["totalCount"], 6);
    for user in underscore.data()["data"].as_array().unwrap() {
        assert!(user["nick"].as_str().unwrap().starts_with("virtual_user_"), "{user}");
    }
    // One or two characters match the start of a word (API.md §5.2): no word starts with "_".
    let alone = app.get("/users?text=_", Some(seed::SESSION)).await;
    assert_eq!(alone.data()["totalCount"], 0, "_ must not match everyone");
}

#[actix_web::test]
async fn search_pages_walk_every_match_once_with_ties_in_time() {
    let app = spawn_compat_app().await;
    // Frozen clock: all 45 registrations share one created_at, so only the id orders them.
    let mut expected = Vec::new();
    for i in 0..45 {
        expected.push(app.register(&format!("walker{i:02}")).await.0);
    }
    expected.sort();
    expected.reverse();

    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &next {
            Some(cursor) => format!("/users?text=walker&next={}", urlencode(cursor)),
            None => "/users?text=walker".to_owned(),
        };
        let page = app.get(&path, Some(seed::SESSION)).await;
        let data = page.data();
        assert_eq!(data["totalCount"], 45);
        assert!(data.get("prev").is_none());
        seen.extend(data["data"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match data.get("next") {
            Some(cursor) => next = Some(cursor.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected, "every match once, newest first, then id descending");
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[actix_web::test]
async fn bad_cursors_are_400() {
    let app = spawn_compat_app().await;
    for cursor in ["garbage", "abc/2024-02-16T15:36:38Z", "37d28fdf-99bc-44b5-8df9-6a3b1a36f177/yesterday"] {
        let answer = app.get(&format!("/users?text=test&next={}", urlencode(cursor)), Some(seed::SESSION)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{cursor}");
        assert_eq!(answer.error_type(), "User Presenter Error");
        assert_eq!(answer.error_message(), "Invalid cursor");
    }
    let long = app.get(&format!("/users?text={}", "a".repeat(300)), Some(seed::SESSION)).await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn every_seed_user_as_the_api_shows_them() {
    let app = spawn_compat_app().await;
    let set = nosebook::seed::compat::data_set().unwrap();
    let mut shown = Vec::new();
    for user in &set.users {
        shown.push(app.get(&format!("/users/{}", user.id), Some(seed::SESSION)).await.data().clone());
    }
    insta::assert_json_snapshot!("users GET /:id every seed user", shown);
}

#[actix_web::test]
async fn the_demo_data_set_loads_and_its_people_can_log_in() {
    let app = crate::helpers::spawn_app().await;
    let now = chrono::Utc::now();
    nosebook::seed::demo::load(&mut app.db().await, now).await.unwrap();
    let login =
        app.post("/login", None, serde_json::json!({"nick": "anna", "password": nosebook::seed::demo::PASSWORD})).await;
    assert_eq!(login.data()["user"]["firstName"], "Anna");
    // Loading twice is refused: data sets go into empty databases only.
    let again = nosebook::seed::demo::load(&mut app.db().await, now).await;
    assert!(again.unwrap_err().to_string().contains("already has users"));
}
