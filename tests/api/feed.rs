//! News (docs/API.md §5.8): the caller's and the caller's friends' live posts, on any wall,
//! newest first, in the walls' Post shape; pages that never repeat or skip a post, even when
//! posts are written between two requests.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Env, TestApp, encode, ids, spawn_app_in};

/// An app whose clock moves a second before each post, so that every post is newer than the
/// last (the testing clock stands still).
async fn app_with_moving_clock() -> (TestApp, nosebook_schema::time::Clock) {
    let clock = nosebook_schema::time::Clock::manual(chrono::Utc::now());
    let app = spawn_app_in(Env::Manual(clock), crate::support::fresh_database().await).await;
    (app, clock)
}

async fn publish(
    app: &TestApp,
    clock: &nosebook_schema::time::Clock,
    session: &str,
    owner: &str,
    text: &str,
) -> String {
    clock.advance(chrono::Duration::seconds(1));
    let answer = app.post("/posts/publish", Some(session), json!({"ownerId": owner, "message": text})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.data()["id"].as_str().unwrap().to_owned()
}

/// `a` asks `b` (each an id and a session), and `b` accepts.
async fn befriend(app: &TestApp, (a, a_session): &(String, String), (b, b_session): &(String, String)) {
    app.post("/friendship/send-request", Some(a_session), json!({"responderId": b})).await.data();
    app.post("/friendship/accept-request", Some(b_session), json!({"requesterId": a})).await.data();
}

async fn feed(app: &TestApp, session: &str, query: &str) -> Value {
    let answer = app.get(&format!("/feed{query}"), Some(session)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.data().clone()
}

#[actix_web::test]
async fn the_feed_holds_my_and_my_friends_posts_on_any_wall_newest_first() {
    let (app, clock) = app_with_moving_clock().await;
    let me = app.register("feed_me").await;
    let friend = app.register("feed_friend").await;
    let asked = app.register("feed_asked").await;
    let stranger = app.register("feed_stranger").await;
    befriend(&app, &friend, &me).await;
    // A request not (yet) accepted makes no one a friend.
    app.post("/friendship/send-request", Some(&asked.1), json!({"responderId": me.0})).await.data();

    let mine = publish(&app, &clock, &me.1, &me.0, "mine").await;
    let on_own_wall = publish(&app, &clock, &friend.1, &friend.0, "friend's").await;
    publish(&app, &clock, &stranger.1, &stranger.0, "a stranger's").await;
    publish(&app, &clock, &stranger.1, &me.0, "a stranger on my wall").await;
    publish(&app, &clock, &asked.1, &asked.0, "not a friend yet").await;
    let on_strangers_wall = publish(&app, &clock, &friend.1, &stranger.0, "friend on a stranger's wall").await;

    let page = feed(&app, &me.1, "").await;
    assert_eq!(ids(&page), [on_strangers_wall.clone(), on_own_wall.clone(), mine.clone()]);
    assert_eq!(page["totalCount"], 3);
    assert!(page.get("next").is_none() && page.get("prev").is_none(), "{page}");
    // The walls' shape, as the caller sees it there.
    let alone = app.get(&format!("/posts/{on_strangers_wall}"), Some(&me.1)).await;
    assert_eq!(page["data"][0], *alone.data());

    // A removed post leaves at once; so do the posts of someone who is no longer a friend, and
    // a new friend's come in.
    app.post("/posts/remove", Some(&friend.1), json!({"id": on_own_wall})).await.data();
    assert_eq!(ids(&feed(&app, &me.1, "").await), [on_strangers_wall.clone(), mine.clone()]);
    app.post("/friendship/remove-friend", Some(&me.1), json!({"friendId": friend.0})).await.data();
    let page = feed(&app, &me.1, "").await;
    assert_eq!(ids(&page), [mine]);
    assert_eq!(page["totalCount"], 1);
    app.post("/friendship/accept-request", Some(&me.1), json!({"requesterId": asked.0})).await.data();
    assert_eq!(ids(&feed(&app, &me.1, "").await).len(), 2);
    // A stranger sees none of it.
    let page = feed(&app, &stranger.1, "").await;
    assert_eq!(page["totalCount"], 2, "the stranger's own two posts");
}

#[actix_web::test]
async fn pages_never_repeat_or_skip_a_post_written_between_them() {
    let (app, clock) = app_with_moving_clock().await;
    let me = app.register("pager_me").await;
    let friend = app.register("pager_friend").await;
    befriend(&app, &me, &friend).await;
    let mut written = Vec::new();
    for i in 0..25 {
        let (author, owner) = if i % 3 == 0 { (&me, &friend) } else { (&friend, &friend) };
        written.push(publish(&app, &clock, &author.1, &owner.0, &format!("post {i}")).await);
    }
    written.reverse();

    let first = feed(&app, &me.1, "?limit=10").await;
    assert_eq!(ids(&first), written[..10]);
    // Newer posts arrive while the first page is read.
    let mut newer = Vec::new();
    for i in 0..3 {
        newer.push(publish(&app, &clock, &friend.1, &friend.0, &format!("newer {i}")).await);
    }
    newer.reverse();
    let mut seen = ids(&first);
    let mut next = first["next"].as_str().unwrap().to_owned();
    loop {
        let page = feed(&app, &me.1, &format!("?limit=10&next={}", encode(&next))).await;
        assert_eq!(page["totalCount"], 28);
        seen.extend(ids(&page));
        match page.get("next") {
            Some(cursor) => next = cursor.as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, written, "every post once, newest first, none of the newer ones");

    // `prev` from the first page's first post: the posts written since, in list order.
    let top = &first["data"][0];
    let cursor = format!("{}/{}", top["id"].as_str().unwrap(), top["createdAt"].as_str().unwrap());
    let since = feed(&app, &me.1, &format!("?limit=2&prev={}", encode(&cursor))).await;
    assert_eq!(ids(&since), newer[1..]);
    let more = feed(&app, &me.1, &format!("?limit=2&prev={}", encode(since["prev"].as_str().unwrap()))).await;
    assert_eq!(ids(&more), newer[..1]);
    assert!(more.get("prev").is_none(), "nothing newer: {more}");
    let back = feed(&app, &me.1, &format!("?limit=2&next={}", encode(more["next"].as_str().unwrap()))).await;
    assert_eq!(ids(&back), newer[1..], "and `next` goes back down");
}

#[actix_web::test]
async fn bad_paging_is_refused_and_the_feed_needs_a_session() {
    let (app, _) = app_with_moving_clock().await;
    let (_, session) = app.register("feed_refused").await;
    let cursor = encode("37d28fdf-99bc-44b5-8df9-6a3b1a36f177/2024-02-16T15:36:38Z");
    for (query, kind) in [
        ("?limit=21".to_owned(), "Post Presenter Error"),
        ("?limit=ten".to_owned(), "Unknown"),
        ("?next=nocursor".to_owned(), "Post Presenter Error"),
        ("?prev=37d28fdf/yesterday".to_owned(), "Post Presenter Error"),
        (format!("?next={cursor}&prev={cursor}"), "Post Presenter Error"),
    ] {
        let answer = app.get(&format!("/feed{query}"), Some(&session)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}: {}", answer.text);
        assert_eq!(answer.error_type(), kind, "{query}");
    }
    let anonymous = app.get("/feed", None).await;
    assert_eq!(anonymous.status, StatusCode::FORBIDDEN, "{}", anonymous.text);
}
