//! News (docs/API.md §5.8): the caller's and the caller's friends' live posts, on any wall,
//! newest first, in the walls' Post shape; pages that never repeat or skip a post, even when
//! posts are written between two requests; the same posts whether the feed is kept or built
//! when read.

use diesel::QueryableByName;
use diesel::sql_types::{Bool, Text};
use diesel_async::RunQueryDsl;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
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

/// Waits until every post written so far is copied into the kept feeds and every feed asked
/// for is built: the copier works after the commits, so a friend's post reaches a kept feed a
/// moment after it is written.
pub(crate) async fn settled(app: &TestApp) {
    #[derive(QueryableByName)]
    struct Idle {
        #[diesel(sql_type = Bool)]
        idle: bool,
    }
    let mut conn = app.db().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let idle: Idle = diesel::sql_query(
            "SELECT NOT EXISTS (SELECT FROM feed_jobs) AND NOT EXISTS (SELECT FROM feeds WHERE NOT ready) AS idle",
        )
        .get_result(&mut conn)
        .await
        .unwrap();
        if idle.idle {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the feed copier never caught up");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Every post of `session`'s feed, paging `limit` at a time.
async fn whole_feed(app: &TestApp, session: &str, limit: usize) -> Vec<String> {
    let mut page = feed(app, session, &format!("?limit={limit}")).await;
    let mut seen = ids(&page);
    while let Some(next) = page.get("next").and_then(Value::as_str) {
        page = feed(app, session, &format!("?limit={limit}&next={}", encode(next))).await;
        seen.extend(ids(&page));
    }
    seen
}

/// The feed by its definition, straight from the tables: `user`'s and their friends' live
/// posts, newest first.
async fn reference_feed(app: &TestApp, user: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let mut conn = app.db().await;
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT id::text FROM posts WHERE removed_at IS NULL AND (author_id = $1::uuid OR author_id IN (
             SELECT responder_id FROM friendship_requests WHERE requester_id = $1::uuid AND accepted
             UNION SELECT requester_id FROM friendship_requests WHERE responder_id = $1::uuid AND accepted))
         ORDER BY created_at DESC, id DESC",
    )
    .bind::<Text, _>(user)
    .load(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.id).collect()
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
    settled(&app).await;
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

/// Random posts, removals, friendships and unfriendings from several people at once; after each
/// round, when the copier has caught up, every person's whole feed is what its definition says.
#[actix_web::test]
async fn kept_feeds_follow_random_posts_removals_and_friendships() {
    let (app, clock) = app_with_moving_clock().await;
    let mut people = Vec::new();
    for i in 0..6 {
        people.push(app.register(&format!("random_{i}")).await);
    }
    let mut rng = StdRng::seed_from_u64(20261208);
    for round in 0..12 {
        let mut work = Vec::new();
        for _ in 0..4 {
            let a = rng.gen_range(0..people.len());
            let b = (a + rng.gen_range(1..people.len())) % people.len();
            let action = rng.gen_range(0..10);
            let (app, clock, people) = (&app, &clock, &people);
            work.push(async move {
                let ((a_id, a_session), (b_id, b_session)) = (&people[a], &people[b]);
                match action {
                    0..=4 => {
                        let owner = if action == 0 { b_id } else { a_id };
                        publish(app, clock, a_session, owner, &format!("round {round}")).await;
                    }
                    5 => {
                        let mine = app.get(&format!("/posts?authorId={a_id}&limit=1"), Some(a_session)).await;
                        if let Some(id) = mine.data()["data"][0]["id"].as_str() {
                            app.post("/posts/remove", Some(a_session), json!({"id": id})).await;
                        }
                    }
                    6..=8 => {
                        // Refusals (already asked, already friends) are part of the game.
                        app.post("/friendship/send-request", Some(a_session), json!({"responderId": b_id})).await;
                        app.post("/friendship/accept-request", Some(b_session), json!({"requesterId": a_id})).await;
                    }
                    _ => {
                        app.post("/friendship/remove-friend", Some(a_session), json!({"friendId": b_id})).await;
                    }
                }
            });
        }
        futures_util::future::join_all(work).await;
        settled(&app).await;
        for (id, session) in &people {
            let expected = reference_feed(&app, id).await;
            assert_eq!(whole_feed(&app, session, 3).await, expected, "round {round}, {id}'s feed");
        }
        // The first round's reads asked for every feed to be kept: later rounds read kept feeds.
        settled(&app).await;
    }
    let mut conn = app.db().await;
    let kept: i64 = diesel::sql_query("SELECT count(*) AS n FROM feeds WHERE ready")
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n;
    assert_eq!(kept, 6, "every reader's feed is kept");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// A kept feed holds its newest rows only: past them, pages are built when read, and a reader
/// away for weeks stops being copied to until they come back.
#[actix_web::test]
async fn a_kept_feed_is_trimmed_and_pages_past_it_are_built_when_read() {
    let (app, clock) = app_with_moving_clock().await;
    let me = app.register("trimmed_me").await;
    let friend = app.register("trimmed_friend").await;
    befriend(&app, &me, &friend).await;
    assert!(feed(&app, &me.1, "").await["data"].as_array().unwrap().is_empty());
    settled(&app).await;
    // More posts than a feed keeps, one statement (copied after it by the copier).
    let mut conn = app.db().await;
    diesel::sql_query(
        "INSERT INTO posts (author_id, owner_id, message, created_at)
         SELECT $1::uuid, $1::uuid, 'post ' || i, now() - make_interval(secs => i) FROM generate_series(1, 430) i",
    )
    .bind::<Text, _>(&friend.0)
    .execute(&mut conn)
    .await
    .unwrap();
    settled(&app).await;
    assert_eq!(kept_rows(&mut conn, &me.0).await, 430);

    let settings = nosebook_schema::PoolSettings {
        url: app.db_url.clone(),
        max_size: 1,
        timeout: std::time::Duration::from_secs(2),
    };
    let janitor = nosebook::janitor::Janitor {
        db: nosebook_schema::DbPool::new(&settings).unwrap(),
        clock,
        outbox_retention: std::time::Duration::from_secs(600),
    };
    janitor.sweep().await.unwrap();
    assert_eq!(kept_rows(&mut conn, &me.0).await, nosebook_schema::queries::feed::KEPT);
    let expected = reference_feed(&app, &me.0).await;
    assert_eq!(expected.len(), 430);
    assert_eq!(whole_feed(&app, &me.1, 20).await, expected, "the kept 400, then the rest built when read");
    assert_eq!(feed(&app, &me.1, "").await["totalCount"], 400, "400 or more");

    // Three weeks away: no longer kept, and still the same feed when back.
    diesel::sql_query("UPDATE feeds SET read_at = now() - interval '21 days'").execute(&mut conn).await.unwrap();
    assert_eq!(janitor.sweep().await.unwrap().feeds, 1);
    assert_eq!(kept_rows(&mut conn, &me.0).await, 0);
    assert_eq!(whole_feed(&app, &me.1, 20).await, expected);
    settled(&app).await;
    assert_eq!(kept_rows(&mut conn, &me.0).await, nosebook_schema::queries::feed::KEPT, "built again on return");
}

/// The rows `user`'s kept feed holds.
async fn kept_rows(conn: &mut diesel_async::AsyncPgConnection, user: &str) -> i64 {
    diesel::sql_query("SELECT count(*) AS n FROM feed_entries WHERE viewer_id = $1::uuid")
        .bind::<Text, _>(user)
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
}

/// The next event that is not `presence`: the people of these tests come online as they act, and
/// when that is told to their new friends depends on the presence tracker's batching.
async fn next_not_presence(socket: &mut crate::helpers::Socket) -> Value {
    loop {
        let event = socket.event().await;
        if event["type"] != "presence" {
            return event;
        }
    }
}

/// Nothing but `presence` for a moment.
async fn quiet_but_presence(socket: &mut crate::helpers::Socket) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(500);
    while let Ok(event) = tokio::time::timeout_at(deadline, socket.event()).await {
        assert_eq!(event["type"], "presence", "nothing else was due: {event}");
    }
}

/// A friend's post reaches the reader's feed and, on a socket of the resumable protocol, a
/// `feed_post` event saying so; a socket of the original protocol hears nothing new.
#[actix_web::test]
async fn a_friends_post_is_announced_to_readers_of_the_feed() {
    let (app, clock) = app_with_moving_clock().await;
    let me = app.register("told_me").await;
    let friend = app.register("told_friend").await;
    let stranger = app.register("told_stranger").await;
    let mut resuming = app.resuming_socket(&me.1, "").await;
    assert_eq!(resuming.event().await["type"], "ready");
    let mut original = app.socket(&me.1).await;
    befriend(&app, &me, &friend).await;
    assert_eq!(next_not_presence(&mut resuming).await["type"], "friend_request_accepted");
    assert_eq!(next_not_presence(&mut original).await["type"], "friend_request_accepted");
    feed(&app, &me.1, "").await;
    settled(&app).await;

    publish(&app, &clock, &stranger.1, &stranger.0, "not for me").await;
    let post = publish(&app, &clock, &friend.1, &friend.0, "for my friends").await;
    let told = next_not_presence(&mut resuming).await;
    assert_eq!(told["type"], "feed_post", "{told}");
    assert_eq!(told["payload"]["id"], post.as_str());
    assert_eq!(told["payload"]["authorId"], friend.0.as_str());
    assert_eq!(told["payload"]["ownerId"], friend.0.as_str());
    let page = feed(&app, &me.1, "").await;
    assert_eq!(ids(&page), [post]);
    assert_eq!(page["data"][0]["createdAt"], told["payload"]["createdAt"]);
    quiet_but_presence(&mut resuming).await;
    quiet_but_presence(&mut original).await;
}
