use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, encode, seed, spawn_compat_app};

fn nicks(page: &Value) -> Vec<(String, String)> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["user"]["nick"].as_str().unwrap().to_owned(), i["type"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

async fn friends_of_tester(app: &TestApp, query: &str) -> Value {
    let answer = app.get(&format!("/friendship?userId={}{query}", seed::TEST_TESTER), Some(seed::SESSION)).await;
    answer.data().clone()
}

/// The original suite's friendship file, in its order: its snapshots hold after these steps.
#[actix_web::test]
async fn the_original_life_cycle_and_its_lists() {
    let app = spawn_compat_app().await;
    let sent = app
        .post("/friendship/send-request", Some(seed::SESSION), json!({"responderId": seed::MARINA, "message": "hi"}))
        .await;
    insta::assert_json_snapshot!("friendship POST /send-request", sent.body);
    let accepted =
        app.post("/friendship/accept-request", Some(seed::SESSION), json!({"requesterId": seed::DRUGTESTER})).await;
    insta::assert_json_snapshot!("friendship POST /accept-request", accepted.body);
    let denied = app.post("/friendship/deny-request", Some(seed::SESSION), json!({"requesterId": seed::SASHA})).await;
    insta::assert_json_snapshot!("friendship POST /deny-request", denied.body);
    let removed = app.post("/friendship/remove-friend", Some(seed::SESSION), json!({"friendId": seed::SANAL})).await;
    insta::assert_json_snapshot!("friendship POST /remove-friend", removed.body);
    assert_eq!(removed.data()["requesterId"], seed::SANAL);
    assert_eq!(removed.data()["responderId"], seed::TEST_TESTER);

    let friends = friends_of_tester(&app, "&accepted=true").await;
    insta::assert_json_snapshot!("friendship GET / accepted", friends);
    assert_eq!(nicks(&friends), pairs(&[("tolber01", "incoming"), ("drugtester", "incoming")]));

    let page1 = friends_of_tester(&app, "&accepted=true&limit=1").await;
    assert_eq!(nicks(&page1), pairs(&[("tolber01", "incoming")]));
    assert_eq!(page1["next"], "37d28fdf-99bc-44b5-8df9-6a3b1a36f177/2024-02-16T15:36:38Z");
    let page2 =
        friends_of_tester(&app, &format!("&accepted=true&limit=1&next={}", encode(page1["next"].as_str().unwrap())))
            .await;
    assert_eq!(nicks(&page2), pairs(&[("drugtester", "incoming")]));
    assert!(page2.get("next").is_none());
    assert_eq!(page2["totalCount"], 2);

    let online = friends_of_tester(&app, "&onlyOnline&accepted=true").await;
    assert_eq!(nicks(&online), pairs(&[("tolber01", "incoming")]));
    let incoming = friends_of_tester(&app, "&onlyIncoming&accepted=false").await;
    insta::assert_json_snapshot!("friendship GET / incoming pending", incoming);
    assert_eq!(nicks(&incoming), pairs(&[("yyy", "incoming"), ("sanal", "incoming")]));
    let outgoing = friends_of_tester(&app, "&onlyOutcoming&accepted=false").await;
    assert_eq!(nicks(&outgoing), pairs(&[("mmm", "outcoming")]));
    // Outcoming wins over incoming when both flags are present.
    let both_flags = friends_of_tester(&app, "&onlyIncoming=false&onlyOutcoming").await;
    assert_eq!(nicks(&both_flags), pairs(&[("mmm", "outcoming")]));
    // The sidebar badge: incoming, pending, not viewed. Sasha's denied request was viewed.
    let badge = friends_of_tester(&app, "&accepted=false&viewed=false&onlyIncoming").await;
    assert_eq!(badge["totalCount"], 0);
    let everything = friends_of_tester(&app, "").await;
    assert_eq!(everything["totalCount"], 5);
}

#[actix_web::test]
async fn state_transitions() {
    let app = spawn_compat_app().await;
    // A denied request stays pending and can still be accepted.
    app.post("/friendship/deny-request", Some(seed::SESSION), json!({"requesterId": seed::DRUGTESTER})).await.data();
    let later =
        app.post("/friendship/accept-request", Some(seed::SESSION), json!({"requesterId": seed::DRUGTESTER})).await;
    assert_eq!(later.data()["accepted"], true);
    assert_eq!(later.data()["viewed"], true);
    // Accepted requests cannot be answered again.
    let again =
        app.post("/friendship/accept-request", Some(seed::SESSION), json!({"requesterId": seed::DRUGTESTER})).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.error_type(), "Friendship Error");
    assert_eq!(again.error_message(), "Заявка не найдена");
    // Only the responder answers: test_tester sent the request to sanal.
    let wrong_side =
        app.post("/friendship/accept-request", Some(seed::SESSION), json!({"requesterId": seed::SANAL})).await;
    assert_eq!(wrong_side.status, StatusCode::NOT_FOUND);
    // Removing turns the friend into a pending request to the remover, whoever asked first.
    let removed =
        app.post("/friendship/remove-friend", Some(seed::SESSION), json!({"friendId": seed::DRUGTESTER})).await;
    assert_eq!(removed.data()["requesterId"], seed::DRUGTESTER);
    assert_eq!(removed.data()["accepted"], false);
    let not_friends =
        app.post("/friendship/remove-friend", Some(seed::SESSION), json!({"friendId": seed::DRUGTESTER})).await;
    assert_eq!(not_friends.status, StatusCode::NOT_FOUND);
    // Any row blocks a new request, in either direction.
    for (session, other) in [(seed::SESSION, seed::DRUGTESTER), (seed::SESSION, seed::TOLBER)] {
        let dup = app.post("/friendship/send-request", Some(session), json!({"responderId": other})).await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert_eq!(dup.error_type(), "Friendship Error");
        assert_eq!(dup.error_message(), "Заявка в друзья уже отправлена");
    }
}

/// Not in the original: a pending request can be withdrawn by whoever sent it, and only that.
#[actix_web::test]
async fn a_pending_request_can_be_withdrawn_by_its_sender() {
    let app = spawn_compat_app().await;
    let cancel = |session: &'static str, responder: &'static str| {
        app.post("/friendship/cancel-request", Some(session), json!({"responderId": responder}))
    };
    app.post("/friendship/send-request", Some(seed::SESSION), json!({"responderId": seed::ASS_ASSER})).await.data();
    // The responder cannot withdraw it (they deny it instead).
    assert_eq!(cancel(seed::ASSER_SESSION, seed::TEST_TESTER).await.status, StatusCode::NOT_FOUND);
    let withdrawn = cancel(seed::SESSION, seed::ASS_ASSER).await;
    assert_eq!(withdrawn.data()["requesterId"], seed::TEST_TESTER);
    assert_eq!(withdrawn.data()["responderId"], seed::ASS_ASSER);
    let again = cancel(seed::SESSION, seed::ASS_ASSER).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.error_type(), "Friendship Error");
    // Gone: it can be sent anew.
    let anew = app.post("/friendship/send-request", Some(seed::SESSION), json!({"responderId": seed::ASS_ASSER})).await;
    assert_eq!(anew.status, StatusCode::OK);
    // A friendship is not withdrawn (that is remove-friend): test_tester and sanal are friends.
    assert_eq!(cancel(seed::SESSION, seed::SANAL).await.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn send_request_refusals() {
    let app = spawn_compat_app().await;
    let cases = [
        (json!({"responderId": seed::TEST_TESTER}), StatusCode::BAD_REQUEST, "yourself"),
        (json!({}), StatusCode::BAD_REQUEST, "responderId is required"),
        (json!({"responderId": "nope"}), StatusCode::BAD_REQUEST, "invalid UUID length"),
        (json!({"responderId": seed::ASS_ASSER, "message": "m".repeat(257)}), StatusCode::BAD_REQUEST, "at most 256"),
        (json!({"responderId": "00000000-0000-0000-0000-000000000001"}), StatusCode::NOT_FOUND, "does not exist"),
    ];
    for (body, status, fragment) in cases {
        let answer = app.post("/friendship/send-request", Some(seed::SESSION), body.clone()).await;
        assert_eq!(answer.status, status, "{body}");
        assert!(answer.error_message().contains(fragment), "{body}: {}", answer.error_message());
    }
    for (route, field) in [
        ("/friendship/accept-request", "requesterId"),
        ("/friendship/deny-request", "requesterId"),
        ("/friendship/remove-friend", "friendId"),
    ] {
        let answer = app.post(route, Some(seed::SESSION), json!({})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{route}");
        assert!(answer.error_message().contains(field));
        assert_eq!(app.post_raw(route, Some(seed::SESSION), "nope").await.status, StatusCode::BAD_REQUEST);
    }
}

#[actix_web::test]
async fn parallel_requests_between_the_same_pair_make_one_row() {
    let app = spawn_compat_app().await;
    let (alice, alice_session) = app.register("alice_p").await;
    let (bob, bob_session) = app.register("bob_p").await;
    let mut requests = Vec::new();
    for i in 0..6 {
        let (session, other) = if i % 2 == 0 { (&alice_session, &bob) } else { (&bob_session, &alice) };
        requests.push(app.post("/friendship/send-request", Some(session), json!({"responderId": other})));
    }
    let answers = futures_util::future::join_all(requests).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 5, "{statuses:?}");
    let rows = app.get(&format!("/friendship?userId={alice}"), Some(&alice_session)).await;
    assert_eq!(rows.data()["totalCount"], 1);
}

#[actix_web::test]
async fn list_and_relation_refusals() {
    let app = spawn_compat_app().await;
    let no_user = app.get("/friendship", Some(seed::SESSION)).await;
    assert_eq!(no_user.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_user.error_type(), "Friendship Presenter Error");
    assert_eq!(no_user.error_message(), "UserId - обязательный параметр");
    let base = format!("/friendship?userId={}", seed::TEST_TESTER);
    let too_many = app.get(&format!("{base}&limit=21"), Some(seed::SESSION)).await;
    assert_eq!(too_many.error_message(), "Максимальный Limit = 20");
    let nan = app.get(&format!("{base}&limit=x"), Some(seed::SESSION)).await;
    assert_eq!(nan.error_type(), "Unknown");
    assert_eq!(nan.error_message(), r#"strconv.ParseUint: parsing "x": invalid syntax"#);
    let cursor = app.get(&format!("{base}&next=bad"), Some(seed::SESSION)).await;
    assert_eq!(cursor.error_message(), "Invalid cursor");
    let bad_user = app.get("/friendship?userId=123", Some(seed::SESSION)).await;
    assert_eq!(bad_user.error_message(), "invalid UUID length: 3");

    let no_source = app.get("/friendship/relation-between", Some(seed::SESSION)).await;
    assert_eq!(no_source.status, StatusCode::BAD_REQUEST);
    let targets: String = (0..21).map(|i| format!("&targetUserIds=00000000-0000-0000-0000-{i:012}")).collect();
    let many = app
        .get(&format!("/friendship/relation-between?sourceUserId={}{targets}", seed::TEST_TESTER), Some(seed::SESSION))
        .await;
    assert_eq!(many.error_message(), "TargetUserIds не может быть больше 20");
}

#[actix_web::test]
async fn relations_between_a_user_and_others() {
    let app = spawn_compat_app().await;
    let targets = [seed::TOLBER, seed::SANAL, seed::DRUGTESTER, seed::SASHA, seed::MARINA, seed::ASS_ASSER]
        .iter()
        .map(|t| format!("&targetUserIds={t}"))
        .collect::<String>();
    let answer = app
        .get(&format!("/friendship/relation-between?sourceUserId={}{targets}", seed::TEST_TESTER), Some(seed::SESSION))
        .await;
    let mut data = answer.data().clone();
    for list in ["friendIds", "pendingResponderIds", "pendingRequesterIds"] {
        if let Some(ids) = data.get_mut(list).and_then(Value::as_array_mut) {
            ids.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
    assert_eq!(
        data,
        json!({"friendIds": [seed::SANAL, seed::TOLBER], "pendingRequesterIds": [seed::DRUGTESTER, seed::SASHA]})
    );
    let nobody = app
        .get(
            &format!(
                "/friendship/relation-between?sourceUserId={}&targetUserIds={}",
                seed::TEST_TESTER,
                seed::ASS_ASSER
            ),
            Some(seed::SESSION),
        )
        .await;
    assert_eq!(nobody.text, r#"{"ok":true,"data":{}}"#);
}

#[actix_web::test]
async fn walking_a_long_friend_list_with_ties_in_time() {
    let app = spawn_compat_app().await;
    let (star, star_session) = app.register("popular").await;
    let mut expected = Vec::new();
    for i in 0..23 {
        let (fan, session) = app.register(&format!("fan{i:02}")).await;
        app.post("/friendship/send-request", Some(&session), json!({"responderId": star})).await.data();
        expected.push(fan);
    }
    // One frozen instant for every request: the other user's id orders them, descending.
    expected.sort();
    expected.reverse();
    let mut seen = Vec::new();
    let mut path = format!("/friendship?userId={star}&limit=7");
    loop {
        let page = app.get(&path, Some(&star_session)).await;
        assert_eq!(page.data()["totalCount"], 23);
        seen.extend(
            page.data()["data"].as_array().unwrap().iter().map(|i| i["user"]["id"].as_str().unwrap().to_owned()),
        );
        match page.data().get("next") {
            Some(next) => path = format!("/friendship?userId={star}&limit=7&next={}", encode(next.as_str().unwrap())),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}
