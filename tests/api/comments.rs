use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{encode, ids, seed, spawn_compat_app};

#[actix_web::test]
async fn comments_in_pages_of_five_oldest_first() {
    let app = spawn_compat_app().await;
    let first = app.get(&format!("/comments?postId={}", seed::LIKED_POST), Some(seed::SESSION)).await;
    assert_eq!(first.data()["totalCount"], 8);
    assert_eq!(first.data()["next"], "d0023f4d-8d7f-4907-9438-d2ed2a9661f3/2024-02-16T15:39:55Z");
    insta::assert_json_snapshot!("comments GET / page 1", first.body);
    let next = first.data()["next"].as_str().unwrap();
    let second =
        app.get(&format!("/comments?postId={}&next={}", seed::LIKED_POST, encode(next)), Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("comments GET / page 2", second.body);
    assert_eq!(second.data()["data"].as_array().unwrap().len(), 3);
    assert!(second.data().get("next").is_none());
    assert!(second.data().get("prev").is_none());

    // The post's recentComments is exactly the first page.
    let post = app.get(&format!("/posts/{}", seed::LIKED_POST), Some(seed::SESSION)).await;
    assert_eq!(post.data()["recentComments"], first.body["data"]);
}

#[actix_web::test]
async fn prev_and_last_page_backwards() {
    let app = spawn_compat_app().await;
    let base = format!("/comments?postId={}", seed::LIKED_POST);
    let all = {
        let first = app.get(&base, Some(seed::SESSION)).await;
        let next = first.data()["next"].as_str().unwrap().to_owned();
        let second = app.get(&format!("{base}&next={}", encode(&next)), Some(seed::SESSION)).await;
        [ids(first.data()), ids(second.data())].concat()
    };
    assert_eq!(all.len(), 8);

    // last=true: the newest five, still oldest first, with prev to go back.
    let last = app.get(&format!("{base}&last=true"), Some(seed::SESSION)).await;
    assert_eq!(ids(last.data()), all[3..]);
    assert!(last.data().get("next").is_none());
    let prev = last.data()["prev"].as_str().unwrap().to_owned();
    // prev: the page just before that cursor, and a next that leads back.
    let before = app.get(&format!("{base}&prev={}", encode(&prev)), Some(seed::SESSION)).await;
    assert_eq!(ids(before.data()), all[..3]);
    assert!(before.data().get("prev").is_none(), "nothing before the first comment");
    assert!(before.data().get("next").is_some());
    assert_eq!(before.data()["totalCount"], 8);

    let both = app.get(&format!("{base}&next={0}&prev={0}", encode(&prev)), Some(seed::SESSION)).await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    assert_eq!(both.error_type(), "Comment Presenter Error");
    assert_eq!(both.error_message(), "Использовать Prev и Next одновременно невозможно");
}

#[actix_web::test]
async fn list_needs_a_post_and_readable_cursors() {
    let app = spawn_compat_app().await;
    let missing = app.get("/comments", Some(seed::SESSION)).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.error_type(), "Comment Presenter Error");
    assert_eq!(missing.error_message(), "PostId - обязательный параметр");
    let bad = app.get("/comments?postId=1234", Some(seed::SESSION)).await;
    assert_eq!(bad.error_message(), "invalid UUID length: 4");
    let cursor = app.get(&format!("/comments?postId={}&next=nope", seed::LIKED_POST), Some(seed::SESSION)).await;
    assert_eq!(cursor.status, StatusCode::BAD_REQUEST);
    assert_eq!(cursor.error_message(), "Invalid cursor");
}

#[actix_web::test]
async fn a_comment_alone_and_its_permissions() {
    let app = spawn_compat_app().await;
    let mine = app.get(&format!("/comments/{}", seed::TESTER_COMMENT), Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("comments permissions author", mine.body);
    assert_eq!(mine.data()["permissions"], json!({"remove": true, "update": true}));
    // drugtester's comment on drugtester's wall, seen by test_tester: nothing.
    let theirs = app.get(&format!("/comments/{}", seed::DRUG_COMMENT), Some(seed::SESSION)).await;
    assert_eq!(theirs.data()["permissions"], json!({"remove": false, "update": false}));
    // A comment on no post, an unknown id and garbage are all data: null.
    for id in [seed::LOOSE_COMMENT, "00000000-0000-0000-0000-000000000001", "garbage"] {
        let answer = app.get(&format!("/comments/{id}"), Some(seed::SESSION)).await;
        assert_eq!(answer.text, r#"{"ok":true,"data":null}"#, "{id}");
    }
}

#[actix_web::test]
async fn the_wall_owner_may_remove_comments_on_the_wall() {
    let app = spawn_compat_app().await;
    let (_, stranger) = app.register("stranger").await;
    // drugtester's comments are on drugtester's wall: the stranger may not remove them.
    let refused = app.post("/comments/remove", Some(&stranger), json!({"id": seed::DRUG_COMMENT})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.error_type(), "Comment Permissions Error");
    assert_eq!(refused.error_message(), "Вы не можете удалить комментарий");

    // The stranger comments on test_tester's wall; test_tester (wall owner) removes it.
    let post = seed::DRUG_POST_ON_TESTER;
    let created =
        app.post("/comments/publish-on-post", Some(&stranger), json!({"id": post, "message": "hi there"})).await;
    let comment = created.data()["id"].as_str().unwrap().to_owned();
    let shown = app.get(&format!("/comments/{comment}"), Some(seed::SESSION)).await;
    assert_eq!(shown.data()["permissions"], json!({"remove": true, "update": false}));
    let removed = app.post("/comments/remove", Some(seed::SESSION), json!({"id": comment})).await;
    assert_eq!(removed.data(), &json!({"id": comment}));
    let again = app.post("/comments/remove", Some(seed::SESSION), json!({"id": comment})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error_type(), "Comment Error");
    assert_eq!(again.error_message(), "Комментарий уже удален");
    let gone = app.get(&format!("/comments?postId={post}"), Some(seed::SESSION)).await;
    assert_eq!(gone.data()["totalCount"], 0);
}

#[actix_web::test]
async fn publish_and_remove_refusals() {
    let app = spawn_compat_app().await;
    // The loose comment belongs to no post: as if it did not exist.
    let loose = app.post("/comments/remove", Some(seed::ASSER_SESSION), json!({"id": seed::LOOSE_COMMENT})).await;
    assert_eq!(loose.status, StatusCode::NOT_FOUND);
    assert_eq!(loose.error_type(), "CommentError");
    assert_eq!(loose.error_message(), "Такого комментария не существует");

    let unknown_post = app
        .post(
            "/comments/publish-on-post",
            Some(seed::SESSION),
            json!({"id": "00000000-0000-0000-0000-000000000001", "message": "x"}),
        )
        .await;
    assert_eq!(unknown_post.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown_post.error_type(), "CommentError");
    assert_eq!(unknown_post.error_message(), "Такого поста не существует");

    // A removed post takes no comments.
    app.post("/posts/remove", Some(seed::SESSION), json!({"id": seed::TESTER_POST_ON_DRUG})).await.data();
    let on_removed = app
        .post(
            "/comments/publish-on-post",
            Some(seed::SESSION),
            json!({"id": seed::TESTER_POST_ON_DRUG, "message": "late"}),
        )
        .await;
    assert_eq!(on_removed.status, StatusCode::NOT_FOUND);
    assert_eq!(on_removed.error_type(), "CommentError");

    for (body, fragment) in [
        (json!({"message": "x"}), "id is required"),
        (json!({"id": seed::LIKED_POST}), "message must not be empty"),
        (json!({"id": seed::LIKED_POST, "message": "y".repeat(4097)}), "at most 4096"),
        (json!({"id": "zz", "message": "x"}), "invalid UUID length"),
    ] {
        let answer = app.post("/comments/publish-on-post", Some(seed::SESSION), body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer.error_message().contains(fragment), "{body}: {}", answer.error_message());
    }
    let no_id = app.post("/comments/remove", Some(seed::SESSION), json!({})).await;
    assert_eq!(no_id.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn walking_comments_forward_and_back_with_ties_in_time() {
    let app = spawn_compat_app().await;
    let (owner, session) = app.register("talkative").await;
    let post = app.post("/posts/publish", Some(&session), json!({"ownerId": owner, "message": "thread"})).await;
    let post = post.data()["id"].as_str().unwrap().to_owned();
    for i in 0..12 {
        app.post("/comments/publish-on-post", Some(&session), json!({"id": post, "message": format!("c{i}")}))
            .await
            .data();
    }
    let base = format!("/comments?postId={post}");
    let mut forward = Vec::new();
    let mut path = base.clone();
    loop {
        let page = app.get(&path, Some(&session)).await;
        forward.extend(ids(page.data()));
        match page.data().get("next") {
            Some(next) => path = format!("{base}&next={}", encode(next.as_str().unwrap())),
            None => break,
        }
    }
    let mut sorted = forward.clone();
    sorted.sort();
    assert_eq!(forward, sorted, "same created_at: ascending id");
    assert_eq!(forward.len(), 12);

    let mut backward = Vec::new();
    let mut path = format!("{base}&last=true");
    loop {
        let page = app.get(&path, Some(&session)).await;
        let mut chunk = ids(page.data());
        chunk.extend(backward);
        backward = chunk;
        match page.data().get("prev") {
            Some(prev) => path = format!("{base}&prev={}", encode(prev.as_str().unwrap())),
            None => break,
        }
    }
    assert_eq!(backward, forward, "walking back from the last page sees the same comments");
}
