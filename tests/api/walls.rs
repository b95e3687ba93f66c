//! Walls' first pages are kept in memory on each node (`core/walls.rs`) and served while the
//! wall's version in PostgreSQL is unchanged. Here one node has the page cached while the changes
//! are made through another node, or straight in the database: each shows on the next read.

use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::{Env, TestApp, seed, spawn_app_in, spawn_compat_app};

/// The tester's wall as `session` sees it through `node`: the statements it cost, the page.
async fn wall(node: &TestApp, session: &str) -> (u32, Value) {
    let answer = node.get(&format!("/posts?ownerId={}", seed::TEST_TESTER), Some(session)).await;
    (answer.db_statements(), answer.data().clone())
}

fn id(answer: &Value) -> String {
    answer["id"].as_str().expect("an id").to_owned()
}

#[actix_web::test]
async fn a_cached_wall_shows_every_change_from_another_node_or_the_database_at_once() {
    let writer = spawn_compat_app().await;
    let reader = spawn_app_in(Env::Testing, writer.db_url.clone()).await;
    let (built, before) = wall(&reader, seed::SESSION).await;
    assert!(built > 1, "built: the version, posts and their count, comments, likes, users");
    // Asked again at once (users are cached for seconds): the version and the viewer's likes.
    assert_eq!(wall(&reader, seed::SESSION).await, (1, before.clone()));

    // A post by someone else, written through the other node.
    let (_, anna) = writer.register("anna").await;
    let post = writer
        .post("/posts/publish", Some(&anna), json!({"ownerId": seed::TEST_TESTER, "message": "from the other node"}))
        .await;
    let post = id(post.data());
    let (cost, page) = wall(&reader, seed::SESSION).await;
    assert!(cost > 1, "a changed wall is built again");
    assert_eq!(page["data"][0]["id"], post.as_str());
    assert_eq!(page["totalCount"], before["totalCount"].as_i64().unwrap() + 1);
    assert_eq!(wall(&reader, seed::SESSION).await, (1, page));

    // Liked by its author. Each viewer of the one cached page sees their own like and rights.
    writer.post("/like/post", Some(&anna), json!({"id": post})).await.data();
    let (_, page) = wall(&reader, seed::SESSION).await;
    assert_eq!(page["data"][0]["likes"]["count"], 1);
    assert_eq!(page["data"][0]["likes"]["liked"], false);
    assert_eq!(page["data"][0]["permissions"], json!({"remove": true, "update": false}), "the wall's owner");
    let (cost, as_anna) = wall(&reader, &anna).await;
    assert_eq!(cost, 1, "another viewer of a cached wall");
    assert_eq!(as_anna["data"][0]["likes"]["liked"], true);
    assert_eq!(as_anna["data"][0]["permissions"], json!({"remove": true, "update": true}), "the author");
    assert_eq!(as_anna["data"][1]["permissions"], json!({"remove": false, "update": false}));

    // A comment on it, then a like of the comment, then the like taken back.
    let comment = writer.post("/comments/publish-on-post", Some(&anna), json!({"id": post, "message": "first!"})).await;
    let comment = id(comment.data());
    let (_, page) = wall(&reader, seed::SESSION).await;
    assert_eq!(page["data"][0]["recentComments"]["data"][0]["id"], comment.as_str());
    assert_eq!(page["data"][0]["recentComments"]["totalCount"], 1);
    writer.post("/like/comment", Some(seed::SESSION), json!({"id": comment})).await.data();
    let (_, page) = wall(&reader, seed::SESSION).await;
    assert_eq!(page["data"][0]["recentComments"]["data"][0]["likes"]["count"], 1);
    assert_eq!(page["data"][0]["recentComments"]["data"][0]["likes"]["liked"], true);
    let (_, as_anna) = wall(&reader, &anna).await;
    assert_eq!(as_anna["data"][0]["recentComments"]["data"][0]["likes"]["liked"], false);
    writer.post("/like/comment", Some(seed::SESSION), json!({"id": comment})).await.data();
    let (_, page) = wall(&reader, seed::SESSION).await;
    assert_eq!(page["data"][0]["recentComments"]["data"][0]["likes"]["count"], 0);

    // Straight in the database, as any other writer would: the version moves all the same.
    diesel::sql_query("UPDATE posts SET message = 'edited elsewhere' WHERE id = $1::uuid")
        .bind::<diesel::sql_types::Text, _>(&post)
        .execute(&mut writer.db().await)
        .await
        .unwrap();
    let (_, page) = wall(&reader, seed::SESSION).await;
    assert_eq!(page["data"][0]["message"], "edited elsewhere");

    // Removed by the wall's owner: the page is what it was before it all.
    writer.post("/posts/remove", Some(seed::SESSION), json!({"id": post})).await.data();
    let (cost, after) = wall(&reader, seed::SESSION).await;
    assert!(cost > 1);
    assert_eq!(after, before);
}
