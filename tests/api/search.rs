//! People search (docs/API.md §5.2): either alphabet finds the other, friends come first, then
//! friends of friends, then everyone else; pages never repeat or skip anyone; totalCount is capped.

use diesel::sql_types::{Integer, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, encode, ids, spawn_app};

/// Registers someone through the API with the given names; returns (id, session).
async fn person(app: &TestApp, first: &str, last: &str, nick: &str) -> (String, String) {
    let answer = app
        .post("/register", None, json!({"firstName": first, "lastName": last, "nick": nick, "password": "password123"}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let data = answer.data();
    (data["user"]["id"].as_str().unwrap().to_owned(), data["session"]["sessionId"].as_str().unwrap().to_owned())
}

/// `count` people written straight into the table (as a bulk load would: no application code
/// computes their search key), named `first` `last{i}`, registered `minutes_ago + i` minutes
/// before now; returns their ids, newest first.
async fn bulk(app: &TestApp, first: &str, last: &str, count: i32, minutes_ago: i32) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = Text)]
        id: String,
    }
    let mut conn = app.db().await;
    let rows: Vec<Id> = diesel::sql_query(
        "INSERT INTO users (first_name, last_name, nick, passhash, created_at) \
         SELECT $1, $2 || i, 'b' || substr(md5(random()::text), 1, 20), 'x', \
                now() - make_interval(mins => $3 + i) \
         FROM generate_series(1, $4) i ORDER BY i RETURNING id::text",
    )
    .bind::<Text, _>(first)
    .bind::<Text, _>(last)
    .bind::<Integer, _>(minutes_ago)
    .bind::<Integer, _>(count)
    .get_results(&mut conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.id).collect()
}

/// An accepted friendship between `a` and `b`, written straight into the table, newer than every
/// one written before it (`clock_timestamp()`: the statements run one after another).
async fn befriend(app: &TestApp, a: &str, b: &str) {
    befriend_at(app, a, b, "clock_timestamp()").await;
}

/// An accepted friendship between `a` and `b` asked for at `at` (an SQL expression).
async fn befriend_at(app: &TestApp, a: &str, b: &str, at: &str) {
    let mut conn = app.db().await;
    diesel::sql_query(format!(
        "INSERT INTO friendship_requests (requester_id, responder_id, accepted, viewed, created_at) \
         VALUES ($1, $2, true, true, {at})"
    ))
    .bind::<SqlUuid, _>(uuid::Uuid::parse_str(a).unwrap())
    .bind::<SqlUuid, _>(uuid::Uuid::parse_str(b).unwrap())
    .execute(&mut conn)
    .await
    .unwrap();
}

/// `v` newest first, as written oldest first.
fn newest_first(v: &[String]) -> Vec<String> {
    v.iter().rev().cloned().collect()
}

/// Every page of a search: the ids in the order shown, and each page's totalCount.
async fn walk(app: &TestApp, session: &str, text: &str) -> (Vec<String>, Vec<i64>) {
    let (mut seen, mut counts) = (Vec::new(), Vec::new());
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(cursor) => format!("/users?text={}&next={}", encode(text), encode(cursor)),
            None => format!("/users?text={}", encode(text)),
        };
        let page = app.get(&path, Some(session)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let data = page.data();
        assert!(data["data"].as_array().unwrap().len() <= 20);
        seen.extend(ids(data));
        counts.push(data["totalCount"].as_i64().unwrap());
        match data.get("next") {
            Some(cursor) => next = Some(cursor.as_str().unwrap().to_owned()),
            None => break,
        }
        assert!(counts.len() < 100, "pages never end");
    }
    (seen, counts)
}

async fn found(app: &TestApp, session: &str, text: &str) -> Vec<String> {
    let page = app.get(&format!("/users?text={}", encode(text)), Some(session)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let mut names: Vec<String> = page.data()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| format!("{} {}", u["firstName"].as_str().unwrap(), u["lastName"].as_str().unwrap()))
        .collect();
    names.sort();
    names
}

#[actix_web::test]
async fn latin_finds_cyrillic_and_cyrillic_finds_latin() {
    let app = spawn_app().await;
    let (_, me) = person(&app, "Zed", "Quux", "zedq").await;
    person(&app, "Анна", "Петрова", "apetrova").await;
    person(&app, "Anna", "Smith", "annas").await;
    person(&app, "Жанна", "Щукина", "zhanna").await;
    person(&app, "Алексей", "Иванов", "lyosha").await;

    assert_eq!(found(&app, &me, "anna").await, ["Anna Smith", "Анна Петрова", "Жанна Щукина"]);
    assert_eq!(found(&app, &me, "Анна").await, ["Anna Smith", "Анна Петрова", "Жанна Щукина"]);
    assert_eq!(found(&app, &me, "ANNA SMI").await, ["Anna Smith"]);
    assert_eq!(found(&app, &me, "анна смит").await, ["Anna Smith"]);
    assert_eq!(found(&app, &me, "Shchukina").await, ["Жанна Щукина"]);
    assert_eq!(found(&app, &me, "zhanna").await, ["Жанна Щукина"]);
    // Latin x is ks both ways: Alex meets Алексей.
    assert_eq!(found(&app, &me, "Alex").await, ["Алексей Иванов"]);
    assert_eq!(found(&app, &me, "ivanov").await, ["Алексей Иванов"]);
    assert!(found(&app, &me, "Иваненко").await.is_empty());
}

/// Search reads its own table, kept by triggers on `users`: a person renamed by any write —
/// here a hand-written UPDATE — is found by the new name only, and one deleted is gone.
#[actix_web::test]
async fn renamed_and_deleted_people_are_found_as_they_now_are() {
    let app = spawn_app().await;
    let (_, me) = person(&app, "Zed", "Quux", "zedq").await;
    let (olga, _) = person(&app, "Ольга", "Мороз", "omoroz").await;
    bulk(&app, "Evlampiy", "Bulk", 2, 5).await;
    assert_eq!(found(&app, &me, "olga").await, ["Ольга Мороз"]);
    assert_eq!(found(&app, &me, "evlampiy").await, ["Evlampiy Bulk1", "Evlampiy Bulk2"]);

    let mut conn = app.db().await;
    diesel::sql_query("UPDATE users SET first_name = 'Оля', last_activity_at = now() WHERE id = $1")
        .bind::<SqlUuid, _>(uuid::Uuid::parse_str(&olga).unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query("DELETE FROM users WHERE last_name = 'Bulk1'").execute(&mut conn).await.unwrap();
    assert!(found(&app, &me, "olga").await.is_empty());
    assert_eq!(found(&app, &me, "olya moroz").await, ["Оля Мороз"]);
    assert_eq!(found(&app, &me, "evlampiy").await, ["Evlampiy Bulk2"]);
}

#[actix_web::test]
async fn yo_is_ye_and_case_does_not_matter() {
    let app = spawn_app().await;
    let (_, me) = person(&app, "Zed", "Quux", "zedq").await;
    person(&app, "Фёдор", "Семёнов", "fsem").await;
    person(&app, "ЕЛЕНА", "ёлкина", "elka").await;
    for text in ["Федор", "фЁдОр", "fedor", "FEDOR", "семенов", "Семёнов", "SEMENOV"] {
        assert_eq!(found(&app, &me, text).await, ["Фёдор Семёнов"], "{text}");
    }
    for text in ["Ёлкина", "елкина", "elkina", "елена", "Elena"] {
        assert_eq!(found(&app, &me, text).await, ["ЕЛЕНА ёлкина"], "{text}");
    }
}

#[actix_web::test]
async fn one_or_two_letters_find_word_starts() {
    let app = spawn_app().await;
    let (_, me) = person(&app, "Zed", "Quux", "zedq").await;
    person(&app, "Anna", "Smith", "asmith").await;
    person(&app, "Олег", "Андреев", "olegand").await;
    person(&app, "Ivan", "Petrov", "ivanp").await;
    person(&app, "Жанна", "Ким", "zhk").await;

    // "an" starts Anna and Андреев (andreev); it is inside Ivan, which does not count.
    assert_eq!(found(&app, &me, "an").await, ["Anna Smith", "Олег Андреев"]);
    assert_eq!(found(&app, &me, "Ан").await, ["Anna Smith", "Олег Андреев"]);
    assert_eq!(found(&app, &me, "i").await, ["Ivan Petrov"]);
    // Nicks are words too.
    assert_eq!(found(&app, &me, "ol").await, ["Олег Андреев"]);
    // Ж is already two letters folded (zh): a word start.
    assert_eq!(found(&app, &me, "ж").await, ["Жанна Ким"]);
    assert_eq!(found(&app, &me, "Zh").await, ["Жанна Ким"]);
    // Three letters are a substring again: "van" is inside Ivan.
    assert_eq!(found(&app, &me, "van").await, ["Ivan Petrov"]);
    // Nothing left after folding (ъ is dropped), only spaces or no letter at all: nobody, not
    // everybody (and no scan of every row).
    for text in ["ъ", "   ", "...", "-", "_%"] {
        let page = app.get(&format!("/users?text={}", encode(text)), Some(&me)).await;
        assert_eq!(page.text, r#"{"ok":true,"data":{"data":[],"totalCount":0}}"#, "{text:?}");
    }
}

#[actix_web::test]
async fn friends_then_friends_of_friends_then_everyone_across_pages() {
    let app = spawn_app().await;
    let (me, session) = person(&app, "Searcher", "Quux", "searcher").await;
    // Strangers registered most recently, friends longest ago: the sections beat recency.
    let strangers = bulk(&app, "Kirill", "Stranger", 22, 0).await;
    let fofs = bulk(&app, "Кирилл", "Знакомый", 22, 100).await;
    let friends = bulk(&app, "Kirill", "Friend", 22, 200).await;
    // The friends through whom the friends of friends are known; they do not match.
    let links = bulk(&app, "Link", "Middle", 2, 300).await;
    for friend in friends.iter().chain(&links) {
        befriend(&app, &me, friend).await;
    }
    for (i, fof) in fofs.iter().enumerate() {
        befriend(&app, fof, &links[i % 2]).await;
        // Also a friend of a stranger: still a friend of a friend.
        befriend(&app, fof, &strangers[i]).await;
    }
    // A pending request makes nobody a friend.
    let mut conn = app.db().await;
    diesel::sql_query(
        "INSERT INTO friendship_requests (requester_id, responder_id, created_at) VALUES ($1, $2, now())",
    )
    .bind::<SqlUuid, _>(uuid::Uuid::parse_str(&strangers[0]).unwrap())
    .bind::<SqlUuid, _>(uuid::Uuid::parse_str(&me).unwrap())
    .execute(&mut conn)
    .await
    .unwrap();

    // Friends by their friendship, the newest first; the others by registration, newest first.
    let expected: Vec<String> = [newest_first(&friends), fofs.clone(), strangers.clone()].concat();
    let (seen, counts) = walk(&app, &session, "kirill").await;
    assert_eq!(seen, expected, "friends, then friends of friends, then the rest");
    assert_eq!(counts, [66, 66, 66, 66]);
    // The Cyrillic spelling finds the same people in the same order.
    assert_eq!(walk(&app, &session, "Кирилл").await.0, expected);

    // Someone else sees other sections: for the first link, its friends of friends are the
    // searcher's friends (through the searcher) and its own friends are the fofs.
    let link_session = {
        let mut conn = app.db().await;
        diesel::sql_query(
            "INSERT INTO user_sessions (session_id, user_id, created_at, expires_at) \
             VALUES ('00000000-0000-4000-8000-00000000000a', $1, now(), now() + interval '1 day')",
        )
        .bind::<SqlUuid, _>(uuid::Uuid::parse_str(&links[0]).unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
        "00000000-0000-4000-8000-00000000000a".to_owned()
    };
    // The first link's friends are the even fofs; its friends of friends are the searcher's
    // friends and the even fofs' strangers; the odd ones are strangers to it.
    let even = |v: &[String]| v.iter().step_by(2).cloned().collect::<Vec<_>>();
    let odd = |v: &[String]| v.iter().skip(1).step_by(2).cloned().collect::<Vec<_>>();
    let link_expected =
        [newest_first(&even(&fofs)), even(&strangers), friends.clone(), odd(&strangers), odd(&fofs)].concat();
    assert_eq!(walk(&app, &link_session, "kirill").await.0, link_expected);
}

#[actix_web::test]
async fn pages_never_repeat_or_skip_anyone_with_ties_in_time() {
    let app = spawn_app().await;
    let (me, session) = person(&app, "Searcher", "Quux", "searcher").await;
    // Frozen clock: everyone registered through the API shares one time, and the friendships
    // share another; only ids order them.
    let mut strangers = Vec::new();
    let mut friends = Vec::new();
    for i in 0..23 {
        let (id, _) = person(&app, "Tie", &format!("Tied{i}"), &format!("tie{i:02}")).await;
        if i % 3 == 0 {
            befriend_at(&app, &id, &me, "'2024-03-01T00:00:00Z'").await;
            friends.push(id);
        } else {
            strangers.push(id);
        }
    }
    friends.sort_by(|a, b| b.cmp(a));
    strangers.sort_by(|a, b| b.cmp(a));
    let (seen, counts) = walk(&app, &session, "tie").await;
    assert_eq!(seen, friends.iter().chain(&strangers).cloned().collect::<Vec<_>>());
    assert_eq!(counts, [23, 23]);
    // A section the list does not have is refused like any unreadable cursor.
    let cursor = "37d28fdf-99bc-44b5-8df9-6a3b1a36f177/2024-02-16T15:36:38Z/3";
    let bad = app.get(&format!("/users?text=tie&next={}", encode(cursor)), Some(&session)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!((bad.error_type(), bad.error_message()), ("User Presenter Error", "Invalid cursor"));
}

#[actix_web::test]
async fn total_count_is_exact_up_to_a_thousand() {
    let app = spawn_app().await;
    let (_, session) = person(&app, "Searcher", "Quux", "searcher").await;
    bulk(&app, "Многие", "Люди", 1005, 0).await;
    bulk(&app, "Few", "Folk", 7, 0).await;
    let many = app.get("/users?text=mnogie", Some(&session)).await;
    assert_eq!(many.data()["totalCount"], 1000, "capped");
    assert_eq!(many.data()["data"].as_array().unwrap().len(), 20);
    assert!(many.data().get("next").is_some());
    let few = app.get("/users?text=few", Some(&session)).await;
    assert_eq!(few.data()["totalCount"], 7, "exact below the cap");
    // Past the last page the count is still the whole search's.
    let (seen, counts) = walk(&app, &session, "few").await;
    assert_eq!((seen.len(), counts), (7, vec![7]));
}

#[actix_web::test]
async fn the_web_search_shows_a_cyrillic_person_for_a_latin_query() {
    let app = spawn_app().await;
    let (me, session) = person(&app, "Zed", "Quux", "zedq").await;
    let (anna, _) = person(&app, "Анна", "Петрова", "apetrova").await;
    let cookie = format!("nosebook_session={session}:{me}");
    for htmx in [false, true] {
        let mut request = app
            .client
            .get(format!("{}/app/search?text=anna", app.address))
            .header("Cookie", cookie.clone())
            .header("Accept-Language", "en");
        if htmx {
            // The header box's search as you type.
            request = request.header("HX-Request", "true");
        }
        let page = request.send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("Анна") && html.contains("Петрова") && html.contains(&anna), "{htmx}: {html}");
    }
}

#[actix_web::test]
async fn friends_of_friends_are_looked_for_among_the_200_newest_matches() {
    let app = spawn_app().await;
    let (me, session) = person(&app, "Searcher", "Quux", "searcher").await;
    let link = bulk(&app, "Link", "Middle", 1, 0).await;
    befriend(&app, &me, &link[0]).await;
    // Registered before everyone else who matches, and a friend of the searcher's friend.
    let fof = bulk(&app, "Vasilisa", "Old", 1, 10_000).await;
    befriend(&app, &fof[0], &link[0]).await;
    bulk(&app, "Vasilisa", "New", 199, 0).await;
    // 200 matches: the friend of a friend is among them and comes first.
    let page = app.get("/users?text=vasilisa", Some(&session)).await;
    assert_eq!(ids(page.data())[0], fof[0]);
    // One more, newer: now it is the 201st newest and listed with the rest, where it is oldest.
    bulk(&app, "Vasilisa", "Newer", 1, 0).await;
    let (seen, counts) = walk(&app, &session, "vasilisa").await;
    assert_eq!(seen.len(), 201);
    assert_eq!(seen.last(), Some(&fof[0]));
    assert!(counts.iter().all(|c| *c == 201));
}

/// More than a thousand Kirills, in every section of `me`'s search: 5 friends of friends (the
/// newest registrations, last names `fof` + i), 1,000 strangers (`stranger` + i), 22 friends
/// (the oldest, `friend` + i). Answers (friends, friends of friends, strangers), each newest
/// first.
async fn kirills_in_every_section(
    app: &TestApp,
    me: &str,
    [fof, stranger, friend]: [&str; 3],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let link = bulk(app, "Link", "Middle", 1, 0).await;
    befriend(app, me, &link[0]).await;
    let fofs = bulk(app, "Kirill", fof, 5, 0).await;
    let strangers = bulk(app, "Kirill", stranger, 1000, 100).await;
    let friends = bulk(app, "Kirill", friend, 22, 5000).await;
    for friend in &friends {
        befriend(app, me, friend).await;
    }
    for fof in &fofs {
        befriend(app, fof, &link[0]).await;
    }
    (friends, fofs, strangers)
}

#[actix_web::test]
async fn sections_hold_when_more_than_a_thousand_match() {
    let app = spawn_app().await;
    let (me, session) = person(&app, "Searcher", "Quux", "searcher").await;
    let (friends, fofs, strangers) = kirills_in_every_section(&app, &me, ["Fof", "Stranger", "Friend"]).await;
    let (seen, counts) = walk(&app, &session, "kirill").await;
    assert_eq!(seen, [newest_first(&friends), fofs, strangers].concat(), "each once, in sections");
    assert!(counts.iter().all(|c| *c == 1000), "capped on every page");
}

/// A text of two words is looked up by the names' consecutive word pairs: its first word may
/// end a longer one ("irill" in Kirill), its second starts the next (Petrov…), and with more than
/// a thousand matches the sections and pages hold as for one word.
#[actix_web::test]
async fn two_words_match_inside_and_across_names_with_the_sections_kept() {
    let app = spawn_app().await;
    let (me, session) = person(&app, "Searcher", "Quux", "searcher").await;
    let (friends, fofs, strangers) = kirills_in_every_section(&app, &me, ["Petrov", "Petrovskiy", "Petrova"]).await;
    bulk(&app, "Kirill", "Ivanov", 30, 0).await;
    bulk(&app, "Petrov", "Kirill", 30, 0).await;
    let (seen, counts) = walk(&app, &session, "irill petrov").await;
    assert_eq!(seen, [newest_first(&friends), fofs, strangers].concat(), "each once, in sections");
    assert!(counts.iter().all(|c| *c == 1000), "capped on every page");

    person(&app, "Анна", "Петрова", "apetrova").await;
    person(&app, "Joanna", "Petrovna", "jpetrovna").await;
    person(&app, "Anna", "Smith", "petrov_anna").await;
    assert_eq!(found(&app, &session, "anna petrov").await, ["Joanna Petrovna", "Анна Петрова"]);
    assert_eq!(found(&app, &session, "Анна Петр").await, ["Joanna Petrovna", "Анна Петрова"]);
    // The last name and the nick are a pair too.
    assert_eq!(found(&app, &session, "smith petrov_a").await, ["Anna Smith"]);
    // Three words: the middle one whole.
    assert_eq!(found(&app, &session, "anna petrova apet").await, ["Анна Петрова"]);
    assert!(found(&app, &session, "anna petro apet").await.is_empty());
}
