use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{seed, spawn_compat_app};

#[actix_web::test]
async fn a_like_toggles_on_and_off() {
    let app = spawn_compat_app().await;
    let on = app.post("/like/post", Some(seed::SESSION), json!({"id": seed::ASSER_POST})).await;
    insta::assert_json_snapshot!("like POST /post 1", on.body);
    assert_eq!(on.data(), &json!({"postId": seed::ASSER_POST, "liked": true}));
    let off = app.post("/like/post", Some(seed::SESSION), json!({"id": seed::ASSER_POST})).await;
    assert_eq!(off.data(), &json!({"postId": seed::ASSER_POST, "liked": false}));

    let on = app.post("/like/comment", Some(seed::SESSION), json!({"id": seed::DRUG_COMMENT})).await;
    assert_eq!(on.data(), &json!({"commentId": seed::DRUG_COMMENT, "liked": true}));
    let off = app.post("/like/comment", Some(seed::SESSION), json!({"id": seed::DRUG_COMMENT})).await;
    assert_eq!(off.data()["liked"], false);
}

#[actix_web::test]
async fn the_like_object_counts_shows_five_first_likers_and_the_callers_like() {
    let app = spawn_compat_app().await;
    app.post("/like/post", Some(seed::SESSION), json!({"id": seed::LIKED_POST})).await.data();
    let post = app.get(&format!("/posts/{}", seed::LIKED_POST), Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("likes of the seed's most liked post, liked by the caller", post.data()["likes"]);
    assert_eq!(post.data()["likes"]["count"], 8);
    assert_eq!(post.data()["likes"]["liked"], true);
    // Another viewer sees the same count but not the caller's like.
    let asser = app.get(&format!("/posts/{}", seed::LIKED_POST), Some(seed::ASSER_SESSION)).await;
    assert_eq!(asser.data()["likes"]["count"], 8);
    assert_eq!(asser.data()["likes"]["liked"], false);

    app.post("/like/comment", Some(seed::ASSER_SESSION), json!({"id": seed::TESTER_COMMENT})).await.data();
    let comment = app.get(&format!("/comments/{}", seed::TESTER_COMMENT), Some(seed::SESSION)).await;
    assert_eq!(comment.data()["likes"]["count"], 1);
    assert_eq!(comment.data()["likes"]["liked"], false);
    assert_eq!(comment.data()["likes"]["randomFiveLikers"][0]["nick"], "ass_asser");
}

#[actix_web::test]
async fn removed_and_unknown_things_cannot_be_liked() {
    let app = spawn_compat_app().await;
    app.post("/posts/remove", Some(seed::SESSION), json!({"id": seed::TESTER_POST_ON_DRUG})).await.data();
    let post = app.post("/like/post", Some(seed::SESSION), json!({"id": seed::TESTER_POST_ON_DRUG})).await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
    assert_eq!(post.error_type(), "LikeError");
    assert_eq!(post.error_message(), "Такого поста не существует");

    app.post("/comments/remove", Some(seed::SESSION), json!({"id": seed::TESTER_COMMENT})).await.data();
    let comment = app.post("/like/comment", Some(seed::SESSION), json!({"id": seed::TESTER_COMMENT})).await;
    assert_eq!(comment.status, StatusCode::NOT_FOUND);
    assert_eq!(comment.error_type(), "LikeError");
    assert_eq!(comment.error_message(), "Такого комментария не существует");

    let unknown =
        app.post("/like/comment", Some(seed::SESSION), json!({"id": "00000000-0000-0000-0000-000000000009"})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for route in ["/like/post", "/like/comment"] {
        assert_eq!(app.post(route, Some(seed::SESSION), json!({})).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.post(route, Some(seed::SESSION), json!({"id": "x"})).await.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.post_raw(route, Some(seed::SESSION), "{").await.status, StatusCode::BAD_REQUEST);
    }
    // A comment on no post can be liked: the original allows it.
    let loose = app.post("/like/comment", Some(seed::SESSION), json!({"id": seed::LOOSE_COMMENT})).await;
    assert_eq!(loose.data()["liked"], true);
}

#[actix_web::test]
async fn parallel_toggles_by_one_user_never_double_like() {
    let app = spawn_compat_app().await;
    let toggles = (0..10).map(|_| app.post("/like/post", Some(seed::SESSION), json!({"id": seed::ASSER_POST})));
    let answers = futures_util::future::join_all(toggles).await;
    let mut liked = 0;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        if answer.data()["liked"] == true {
            liked += 1;
        }
    }
    // Each toggle flipped the like once: five on, five off, and no row left behind.
    assert_eq!(liked, 5);
    let post = app.get(&format!("/posts/{}", seed::ASSER_POST), Some(seed::SESSION)).await;
    assert_eq!(post.data()["likes"]["count"], 0);

    // Two users at once: both likes land.
    let both = futures_util::future::join(
        app.post("/like/post", Some(seed::SESSION), json!({"id": seed::ASSER_POST})),
        app.post("/like/post", Some(seed::ASSER_SESSION), json!({"id": seed::ASSER_POST})),
    )
    .await;
    assert_eq!((both.0.data()["liked"].clone(), both.1.data()["liked"].clone()), (json!(true), json!(true)));
    let post = app.get(&format!("/posts/{}", seed::ASSER_POST), Some(seed::SESSION)).await;
    assert_eq!(post.data()["likes"]["count"], 2);
}
