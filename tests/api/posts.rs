use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{encode, ids, seed, spawn_compat_app};

#[actix_web::test]
async fn a_wall_in_two_pages_as_the_original_shows_it() {
    let app = spawn_compat_app().await;
    let path = format!("/posts?ownerId={0}&authorId={0}", seed::DRUGTESTER);
    let first = app.get(&path, Some(seed::SESSION)).await;
    assert_eq!(first.data()["totalCount"], 11);
    assert_eq!(first.data()["next"], "c7b7bf17-38f9-4ed5-b0a8-601a90f7c8e7/2024-02-16T14:36:38Z");
    insta::assert_json_snapshot!("posts GET / page 1", first.body);
    let cursor = first.data()["next"].as_str().unwrap();
    let second = app.get(&format!("{path}&cursor={}", encode(cursor)), Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("posts GET / page 2", second.body);
    let post = &second.data()["data"][0];
    assert_eq!(post["id"], seed::LIKED_POST);
    assert_eq!(post["likes"]["count"], 7);
    assert_eq!(post["recentComments"]["totalCount"], 8);
    assert_eq!(post["recentComments"]["data"].as_array().unwrap().len(), 5);
    assert!(second.data().get("next").is_none());
}

#[actix_web::test]
async fn permissions_follow_author_and_wall_owner() {
    let app = spawn_compat_app().await;
    // test_tester wrote this on drugtester's wall: author.
    let authored = app.get(&format!("/posts/{}", seed::TESTER_POST_ON_DRUG), Some(seed::SESSION)).await;
    assert_eq!(authored.data()["permissions"], json!({"remove": true, "update": true}));
    insta::assert_json_snapshot!("posts permissions author", authored.body);
    // drugtester wrote this on test_tester's wall: owner.
    let owned = app.get(&format!("/posts/{}", seed::DRUG_POST_ON_TESTER), Some(seed::SESSION)).await;
    assert_eq!(owned.data()["permissions"], json!({"remove": true, "update": false}));
    let other = app.get(&format!("/posts/{}", seed::ASSER_POST), Some(seed::SESSION)).await;
    assert_eq!(other.data()["permissions"], json!({"remove": false, "update": false}));
}

#[actix_web::test]
async fn unknown_removed_and_malformed_posts_are_data_null() {
    let app = spawn_compat_app().await;
    for id in ["00000000-0000-0000-0000-000000000001", "nonsense"] {
        let answer = app.get(&format!("/posts/{id}"), Some(seed::SESSION)).await;
        assert_eq!(answer.text, r#"{"ok":true,"data":null}"#);
    }
    let removed = app.post("/posts/remove", Some(seed::SESSION), json!({"id": seed::TESTER_POST_ON_DRUG})).await;
    assert_eq!(removed.data(), &json!({"id": seed::TESTER_POST_ON_DRUG}));
    let answer = app.get(&format!("/posts/{}", seed::TESTER_POST_ON_DRUG), Some(seed::SESSION)).await;
    assert_eq!(answer.text, r#"{"ok":true,"data":null}"#);
}

#[actix_web::test]
async fn publish_then_read_it_back_on_the_wall() {
    let app = spawn_compat_app().await;
    let published = app
        .post("/posts/publish", Some(seed::SESSION), json!({"ownerId": seed::DRUGTESTER, "message": "  hello wall  "}))
        .await;
    let id = published.data()["id"].as_str().unwrap().to_owned();
    let wall = app.get(&format!("/posts?ownerId={}", seed::DRUGTESTER), Some(seed::SESSION)).await;
    let newest = &wall.data()["data"][0];
    assert_eq!(newest["id"], id.as_str());
    assert_eq!(newest["message"], "hello wall", "stored trimmed");
    assert_eq!(newest["author"]["nick"], "test_tester");
    assert_eq!(newest["owner"]["nick"], "drugtester");
    assert_eq!(newest["createdAt"], "2024-08-10T10:10:10Z");
    assert_eq!(newest["likes"], json!({"count": 0, "randomFiveLikers": [], "liked": false}));
    assert_eq!(newest["recentComments"], json!({"data": [], "totalCount": 0}));
    assert_eq!(wall.data()["totalCount"], 16);
    // By author only.
    let mine = app.get(&format!("/posts?authorId={}", seed::TEST_TESTER), Some(seed::SESSION)).await;
    assert_eq!(mine.data()["totalCount"], 2);
}

#[actix_web::test]
async fn publish_refuses_bad_input() {
    let app = spawn_compat_app().await;
    let cases = [
        (json!({"message": "no owner"}), StatusCode::BAD_REQUEST, "ownerId is required"),
        (json!({"ownerId": "abc", "message": "x"}), StatusCode::BAD_REQUEST, "invalid UUID length: 3"),
        (json!({"ownerId": seed::DRUGTESTER}), StatusCode::BAD_REQUEST, "message must not be empty"),
        (json!({"ownerId": seed::DRUGTESTER, "message": " \n "}), StatusCode::BAD_REQUEST, "message must not be empty"),
        (json!({"ownerId": seed::DRUGTESTER, "message": "x".repeat(4097)}), StatusCode::BAD_REQUEST, "at most 4096"),
        (json!({"ownerId": seed::DRUGTESTER, "message": 5}), StatusCode::BAD_REQUEST, "invalid type"),
        (
            json!({"ownerId": "00000000-0000-0000-0000-000000000001", "message": "x"}),
            StatusCode::NOT_FOUND,
            "does not exist",
        ),
    ];
    for (body, status, fragment) in cases {
        let answer = app.post("/posts/publish", Some(seed::SESSION), body.clone()).await;
        assert_eq!(answer.status, status, "{body}");
        assert_eq!(answer.error_type(), "Unknown");
        assert!(answer.error_message().contains(fragment), "{body}: {}", answer.error_message());
    }
    let just_fits = app
        .post("/posts/publish", Some(seed::SESSION), json!({"ownerId": seed::DRUGTESTER, "message": "ж".repeat(4096)}))
        .await;
    assert_eq!(just_fits.status, StatusCode::OK);
}

#[actix_web::test]
async fn remove_is_for_author_and_owner_only() {
    let app = spawn_compat_app().await;
    let refused = app.post("/posts/remove", Some(seed::SESSION), json!({"id": seed::ASSER_POST})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.error_type(), "PostError");
    assert_eq!(refused.error_message(), "Только автор и владелец поста может его удалить");
    // The wall owner may remove what someone else wrote on it.
    let owner = app.post("/posts/remove", Some(seed::SESSION), json!({"id": seed::DRUG_POST_ON_TESTER})).await;
    assert_eq!(owner.status, StatusCode::OK);
    let twice = app.post("/posts/remove", Some(seed::SESSION), json!({"id": seed::DRUG_POST_ON_TESTER})).await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
    assert_eq!(twice.error_type(), "PostingError");
    assert_eq!(twice.error_message(), "Такого поста не существует");
    let unknown =
        app.post("/posts/remove", Some(seed::SESSION), json!({"id": "00000000-0000-0000-0000-000000000001"})).await;
    assert_eq!(unknown.error_type(), "PostingError");
    let missing = app.post("/posts/remove", Some(seed::SESSION), json!({})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    // Removed posts leave the wall.
    let wall = app.get(&format!("/posts?ownerId={}", seed::TEST_TESTER), Some(seed::SESSION)).await;
    assert_eq!(wall.data()["totalCount"], 0);
    assert_eq!(wall.text, r#"{"ok":true,"data":{"data":[],"totalCount":0}}"#);
}

#[actix_web::test]
async fn list_refuses_bad_filters_and_cursors() {
    let app = spawn_compat_app().await;
    let no_filter = app.get("/posts", Some(seed::SESSION)).await;
    assert_eq!(no_filter.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_filter.error_type(), "Post Presenter Error");
    assert_eq!(no_filter.error_message(), "Отсутствует фильтр");
    let bad_id = app.get("/posts?ownerId=xyz", Some(seed::SESSION)).await;
    assert_eq!(bad_id.error_message(), "invalid UUID length: 3");
    for cursor in ["nocursor", "x/y", "c7b7bf17-38f9-4ed5-b0a8-601a90f7c8e7/notatime"] {
        let answer = app
            .get(&format!("/posts?ownerId={}&cursor={}", seed::DRUGTESTER, encode(cursor)), Some(seed::SESSION))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{cursor}");
        assert_eq!(answer.error_type(), "Post Presenter Error");
        assert_eq!(answer.error_message(), "Invalid cursor");
    }
}

#[actix_web::test]
async fn a_page_past_the_end_reports_the_real_total() {
    let app = spawn_compat_app().await;
    let past = format!(
        "/posts?ownerId={}&cursor={}",
        seed::DRUGTESTER,
        encode("00000000-0000-0000-0000-000000000000/2000-01-01T00:00:00Z")
    );
    let answer = app.get(&past, Some(seed::SESSION)).await;
    assert_eq!(answer.data()["data"], json!([]));
    assert_eq!(answer.data()["totalCount"], 15, "the original said 0 here; docs/API.md §10.16 is fixed");
}

#[actix_web::test]
async fn walking_a_wall_with_ties_in_time_sees_every_post_once() {
    let app = spawn_compat_app().await;
    let (owner, session) = app.register("wall_owner").await;
    // The frozen clock gives all 33 posts one created_at: only the id orders them.
    for i in 0..33 {
        app.post("/posts/publish", Some(&session), json!({"ownerId": owner, "message": format!("post {i}")}))
            .await
            .data();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/posts?ownerId={owner}&cursor={}", encode(c)),
            None => format!("/posts?ownerId={owner}"),
        };
        let page = app.get(&path, Some(&session)).await;
        assert_eq!(page.data()["totalCount"], 33);
        seen.extend(ids(page.data()));
        match page.data().get("next") {
            Some(next) => cursor = Some(next.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    let mut expected = seen.clone();
    expected.sort();
    expected.reverse();
    expected.dedup();
    assert_eq!(seen.len(), 33);
    assert_eq!(seen, expected, "no duplicates, no gaps, id descending within the tie");
}
