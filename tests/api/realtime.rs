//! Chats, messages and live events over real WebSockets (in-process delivery: one node).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Socket, TestApp, encode, seed, spawn_compat_app};

fn redact_ids(mut event: Value) -> Value {
    for key in ["id", "chatId"] {
        if event["payload"].get(key).is_some() {
            event["payload"][key] = json!("[id]");
        }
    }
    event
}

#[actix_web::test]
async fn upgrades_need_a_session() {
    let app = spawn_compat_app().await;
    let (status, body) = app.refused_upgrade(&[]).await;
    assert_eq!(status, 403);
    assert!(body.contains("Not Authenticated"), "{body}");
    let (status, _) = app.refused_upgrade(&[("X-Auth-Session-Id", "00000000-0000-0000-0000-000000000000")]).await;
    assert_eq!(status, 403);
    // The browser cookie works, for its own user only.
    let good = format!("nosebook_session={}:{}", seed::SESSION, seed::TEST_TESTER);
    assert!(app.socket_with_cookie(&good).await.is_ok());
    let stolen = format!("nosebook_session={}:{}", seed::SESSION, seed::DRUGTESTER);
    assert_eq!(app.socket_with_cookie(&stolen).await.err(), Some(403));
    // A plain GET with a valid session is a clean 400, not a crash (the original's notifier died).
    let plain = app.get("/ws", Some(seed::SESSION)).await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
    assert_eq!(plain.error_message(), "expected a WebSocket upgrade");
    // The cookie is for the socket only; the JSON API keeps its header.
    let cookie_api = app.client.get(format!("{}/whoami", app.address)).header("Cookie", good).send().await.unwrap();
    assert_eq!(cookie_api.status(), StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn a_message_reaches_every_socket_of_both_people() {
    let app = spawn_compat_app().await;
    let mut sender_a = app.socket(seed::SESSION).await;
    let mut sender_b = app.socket(seed::SESSION).await;
    let mut recipient = app.socket(seed::ASSER_SESSION).await;
    let sent = app
        .post(
            "/conversations/send-message",
            Some(seed::SESSION),
            json!({"recipientId": seed::ASS_ASSER, "text": "Hello asser"}),
        )
        .await;
    assert_eq!(sent.text, r#"{"ok":true,"data":true}"#);

    let first = sender_a.event().await;
    insta::assert_json_snapshot!("posts POST /send-message 2", redact_ids(first.clone()));
    assert_eq!(sender_b.event().await, first);
    assert_eq!(recipient.event().await, first);
    for socket in [&mut sender_a, &mut sender_b, &mut recipient] {
        socket.silent().await;
    }

    // The chat now exists, once, and lists for both.
    let chats = app.get(&format!("/chats?interlocutorId={}", seed::ASS_ASSER), Some(seed::SESSION)).await;
    assert_eq!(chats.data()["totalCount"], 1);
    let chat = &chats.data()["data"][0];
    assert_eq!(chat["id"], first["payload"]["chatId"]);
    assert_eq!(chat["type"], "private");
    assert_eq!(chat["interlocutor"]["nick"], "ass_asser");
    assert_eq!(chat["lastMessage"]["text"], "Hello asser");
}

#[actix_web::test]
async fn likes_and_friend_requests_notify_only_the_right_person() {
    let app = spawn_compat_app().await;
    let mut tester = app.socket(seed::SESSION).await;
    let mut asser = app.socket(seed::ASSER_SESSION).await;

    app.post("/like/post", Some(seed::SESSION), json!({"id": seed::ASSER_POST})).await.data();
    let liked = asser.event().await;
    insta::assert_json_snapshot!("like POST /post 3", liked);
    // Unliking says nothing; liking your own post says nothing.
    app.post("/like/post", Some(seed::SESSION), json!({"id": seed::ASSER_POST})).await.data();
    app.post("/like/comment", Some(seed::ASSER_SESSION), json!({"id": seed::LOOSE_COMMENT})).await.data();
    app.post("/like/comment", Some(seed::SESSION), json!({"id": seed::LOOSE_COMMENT})).await.data();
    let comment_liked = asser.event().await;
    assert_eq!(comment_liked["type"], "comment_liked");
    assert_eq!(comment_liked["payload"]["id"], seed::LOOSE_COMMENT);
    assert_eq!(comment_liked["payload"]["message"], "comment message");
    assert_eq!(comment_liked["payload"]["liker"]["nick"], "test_tester");
    asser.silent().await;
    tester.silent().await;

    app.post(
        "/friendship/send-request",
        Some(seed::SESSION),
        json!({"responderId": seed::ASS_ASSER, "message": "be friends?"}),
    )
    .await
    .data();
    let request = asser.event().await;
    insta::assert_json_snapshot!("friend_request event", request);
    app.post("/friendship/accept-request", Some(seed::ASSER_SESSION), json!({"requesterId": seed::TEST_TESTER}))
        .await
        .data();
    let accepted = tester.event().await;
    insta::assert_json_snapshot!("friend_request_accepted event", accepted);
    asser.silent().await;
    tester.silent().await;
}

async fn group_of_three(app: &TestApp) -> (Vec<(String, String)>, Vec<Socket>) {
    let mut people = Vec::new();
    let mut sockets = Vec::new();
    for nick in ["gina", "hugo", "iris"] {
        let (id, session) = app.register(nick).await;
        sockets.push(app.socket(&session).await);
        people.push((id, session));
    }
    (people, sockets)
}

#[actix_web::test]
async fn a_group_of_three_chats_live() {
    let app = spawn_compat_app().await;
    let (people, mut sockets) = group_of_three(&app).await;
    let (gina, hugo, iris) = (&people[0], &people[1], &people[2]);
    let created =
        app.post("/chats/create-group", Some(&gina.1), json!({"title": " Trip ", "memberIds": [hugo.0, iris.0]})).await;
    let group = created.data().clone();
    assert_eq!(group["type"], "group");
    assert_eq!(group["title"], "Trip");
    assert_eq!(group["members"].as_array().unwrap().len(), 3);
    assert!(group.get("interlocutor").is_none() && group.get("lastMessage").is_none());
    for socket in &mut sockets {
        let event = socket.event().await;
        assert_eq!(event["type"], "chat_updated");
        assert_eq!(event["payload"], group);
    }

    let chat = group["id"].as_str().unwrap().to_owned();
    app.post("/conversations/send-message", Some(&hugo.1), json!({"chatId": chat, "text": "hi all"})).await.data();
    for socket in &mut sockets {
        let event = socket.event().await;
        assert_eq!(event["type"], "new_message");
        assert_eq!(event["payload"]["text"], "hi all");
        assert_eq!(event["payload"]["author"]["nick"], "hugo");
        assert_eq!(event["payload"]["chatId"], chat.as_str());
    }
    let renamed = app.post("/chats/rename", Some(&iris.1), json!({"chatId": chat, "title": "Trip 2026"})).await;
    assert_eq!(renamed.data()["title"], "Trip 2026");
    for socket in &mut sockets {
        assert_eq!(socket.event().await["payload"]["title"], "Trip 2026");
    }
    // Iris leaves: everyone hears it, and she no longer gets the group's messages.
    assert_eq!(
        app.post("/chats/leave", Some(&iris.1), json!({"chatId": chat})).await.text,
        r#"{"ok":true,"data":true}"#
    );
    for socket in &mut sockets {
        let event = socket.event().await;
        assert_eq!(event["payload"]["members"].as_array().unwrap().len(), 2);
    }
    app.post("/conversations/send-message", Some(&gina.1), json!({"chatId": chat, "text": "bye iris"})).await.data();
    assert_eq!(sockets[0].event().await["payload"]["text"], "bye iris");
    assert_eq!(sockets[1].event().await["payload"]["text"], "bye iris");
    sockets[2].silent().await;
    let refused = app.post("/conversations/send-message", Some(&iris.1), json!({"chatId": chat, "text": "wait"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // She is added back and hears the group again.
    let added = app.post("/chats/add-members", Some(&hugo.1), json!({"chatId": chat, "userIds": [iris.0]})).await;
    assert_eq!(added.data()["members"].as_array().unwrap().len(), 3);
    for socket in &mut sockets {
        assert_eq!(socket.event().await["type"], "chat_updated");
    }
}

#[actix_web::test]
async fn non_members_can_neither_read_nor_post() {
    let app = spawn_compat_app().await;
    let tester_drug_chat = "ad9ae3dd-9a07-4d68-a66e-db721928e8dd";
    let read = app.get(&format!("/messages?chatId={tester_drug_chat}"), Some(seed::ASSER_SESSION)).await;
    assert_eq!(read.status, StatusCode::FORBIDDEN);
    assert_eq!(read.error_type(), "Message Presenter Error");
    let one = app.get(&format!("/chats/{tester_drug_chat}"), Some(seed::ASSER_SESSION)).await;
    assert_eq!(one.text, r#"{"ok":true}"#);
    let post = app
        .post(
            "/conversations/send-message",
            Some(seed::ASSER_SESSION),
            json!({"chatId": tester_drug_chat, "text": "let me in"}),
        )
        .await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert_eq!(post.error_type(), "Conversation Error");
    let group =
        app.post("/chats/rename", Some(seed::ASSER_SESSION), json!({"chatId": tester_drug_chat, "title": "x"})).await;
    assert_eq!(group.status, StatusCode::FORBIDDEN);
    // A member reads it.
    let mine = app.get(&format!("/messages?chatId={tester_drug_chat}"), Some(seed::SESSION)).await;
    assert_eq!(mine.data()["totalCount"], 2);
}

#[actix_web::test]
async fn the_seed_chats_as_the_original_lists_them() {
    let app = spawn_compat_app().await;
    let chats = app.get("/chats", Some(seed::SESSION)).await;
    insta::assert_json_snapshot!("posts GET / result list of 2 chats", chats.body);
    let first = app.get("/chats?limit=1", Some(seed::SESSION)).await;
    assert_eq!(first.data()["next"], "ad9ae3dd-9a07-4d68-a66e-db721928e8dd/2024-08-10T10:06:19Z");
    let second = app
        .get(&format!("/chats?limit=1&next={}", encode(first.data()["next"].as_str().unwrap())), Some(seed::SESSION))
        .await;
    assert_eq!(second.data()["data"][0]["id"], "ad9ae3dd-9a07-4d68-a66e-db721928e8da");
    let messages = app.get("/messages?chatId=ad9ae3dd-9a07-4d68-a66e-db721928e8dd&limit=1", Some(seed::SESSION)).await;
    assert_eq!(messages.data()["data"][0]["text"], "Hello asser sample message 2");
    let older = app
        .get(
            &format!(
                "/messages?chatId=ad9ae3dd-9a07-4d68-a66e-db721928e8dd&limit=1&next={}",
                encode(messages.data()["next"].as_str().unwrap())
            ),
            Some(seed::SESSION),
        )
        .await;
    assert_eq!(older.data()["data"][0]["text"], "Hello asser sample message");
    assert!(older.data().get("next").is_none());
    let one = app.get("/chats/ad9ae3dd-9a07-4d68-a66e-db721928e8da", Some(seed::SESSION)).await;
    assert_eq!(one.data()["interlocutor"]["nick"], "mmm");
}

#[actix_web::test]
async fn send_message_refusals() {
    let app = spawn_compat_app().await;
    let cases = [
        (json!({"text": "x"}), StatusCode::BAD_REQUEST, "recipientId or chatId is required"),
        (
            json!({"recipientId": seed::ASS_ASSER, "chatId": seed::ASS_ASSER, "text": "x"}),
            StatusCode::BAD_REQUEST,
            "not both",
        ),
        (json!({"recipientId": seed::TEST_TESTER, "text": "x"}), StatusCode::BAD_REQUEST, "yourself"),
        (json!({"recipientId": seed::ASS_ASSER, "text": "  "}), StatusCode::BAD_REQUEST, "text must not be empty"),
        (json!({"recipientId": seed::ASS_ASSER, "text": "x".repeat(4097)}), StatusCode::BAD_REQUEST, "at most 4096"),
        (
            json!({"recipientId": "00000000-0000-0000-0000-000000000001", "text": "x"}),
            StatusCode::NOT_FOUND,
            "Пользователь с id:00000000-0000-0000-0000-000000000001 отсуствует",
        ),
        (
            json!({"chatId": "ad9ae3dd-9a07-4d68-a66e-db721928e8dd", "text": "x", "replyTo": "e5bba43d-2888-4bb9-b5be-9c60face9332"}),
            StatusCode::BAD_REQUEST,
            "replyTo",
        ),
    ];
    for (body, status, fragment) in cases {
        let answer = app.post("/conversations/send-message", Some(seed::SESSION), body.clone()).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.text);
        assert!(answer.error_message().contains(fragment), "{body}: {}", answer.error_message());
    }
    // A reply within the chat is fine and shows replyTo.
    let ok = app
        .post("/conversations/send-message", Some(seed::SESSION), json!({"chatId": "ad9ae3dd-9a07-4d68-a66e-db721928e8dd", "text": "re", "replyTo": "e5bba43d-2888-4bb9-b5be-9c60face9330"}))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let newest = app.get("/messages?chatId=ad9ae3dd-9a07-4d68-a66e-db721928e8dd&limit=1", Some(seed::SESSION)).await;
    assert_eq!(newest.data()["data"][0]["replyTo"], "e5bba43d-2888-4bb9-b5be-9c60face9330");
}

#[actix_web::test]
async fn concurrent_first_messages_make_one_chat() {
    let app = spawn_compat_app().await;
    let (a, a_session) = app.register("first_a").await;
    let (b, b_session) = app.register("first_b").await;
    let sends = (0..6).map(|i| {
        let (session, to) = if i % 2 == 0 { (&a_session, &b) } else { (&b_session, &a) };
        app.post("/conversations/send-message", Some(session), json!({"recipientId": to, "text": format!("m{i}")}))
    });
    for answer in futures_util::future::join_all(sends).await {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let chats = app.get("/chats", Some(&a_session)).await;
    assert_eq!(chats.data()["totalCount"], 1);
    let chat = chats.data()["data"][0]["id"].as_str().unwrap().to_owned();
    let messages = app.get(&format!("/messages?chatId={chat}&limit=20"), Some(&b_session)).await;
    assert_eq!(messages.data()["totalCount"], 6);
}

#[actix_web::test]
async fn inbound_frames_are_never_echoed() {
    let app = spawn_compat_app().await;
    let mut talker = app.socket(seed::SESSION).await;
    let mut listener = app.socket(seed::ASSER_SESSION).await;
    talker.send_text("{\"type\":\"new_message\",\"payload\":{\"text\":\"spoofed\"}}").await;
    // Prove the pipeline flows, then that nothing else came.
    app.post("/like/post", Some(seed::SESSION), json!({"id": seed::ASSER_POST})).await.data();
    assert_eq!(listener.event().await["type"], "post_liked");
    listener.silent().await;
    talker.silent().await;
}

#[actix_web::test]
async fn a_single_node_without_a_broker_delivers_in_process() {
    let url = crate::support::fresh_database().await;
    nosebook::seed::compat::load(&mut crate::support::connect(&url).await).await.unwrap();
    let app = crate::helpers::spawn_app_in(crate::helpers::Env::TestingWithoutBroker, url).await;
    assert!(app.exchange.is_none());
    let mut asser = app.socket(seed::ASSER_SESSION).await;
    let mut tester = app.socket(seed::SESSION).await;
    app.post(
        "/conversations/send-message",
        Some(seed::SESSION),
        json!({"recipientId": seed::ASS_ASSER, "text": "local"}),
    )
    .await
    .data();
    assert_eq!(asser.event().await["payload"]["text"], "local");
    assert_eq!(tester.event().await["payload"]["text"], "local");
}

/// Alice and Bob, friends, on an app whose clock the test moves: six quiet minutes later Alice
/// is offline and Bob, with a socket open, has been told so. Answers the app, Alice (id,
/// session) and Bob's socket.
async fn alice_gone_quiet(nick: &str) -> (TestApp, (String, String), Socket) {
    use nosebook_schema::time::Clock;
    let clock = Clock::manual(chrono::Utc::now());
    let app =
        crate::helpers::spawn_app_in(crate::helpers::Env::Manual(clock), crate::support::fresh_database().await).await;
    let (alice, alice_session) = app.register(&format!("alice_{nick}")).await;
    let (bob, bob_session) = app.register(&format!("bob_{nick}")).await;
    app.post("/friendship/send-request", Some(&alice_session), json!({"responderId": bob})).await.data();
    app.post("/friendship/accept-request", Some(&bob_session), json!({"requesterId": alice})).await.data();
    let mut bob_socket = app.socket(&bob_session).await;
    clock.advance(chrono::Duration::minutes(6));
    let offline = presence_of(&mut bob_socket, &alice).await;
    assert_eq!(offline["payload"]["online"], false);
    assert!(offline["payload"]["lastOnlineAt"].is_string());
    (app, (alice, alice_session), bob_socket)
}

/// The next presence event about `user` on `socket`.
async fn presence_of(socket: &mut Socket, user: &str) -> Value {
    loop {
        let event = socket.event().await;
        if event["type"] == "presence" && event["payload"]["userId"] == user {
            return event;
        }
    }
}

#[actix_web::test]
async fn friends_hear_when_someone_goes_offline_and_comes_back() {
    let (app, (alice, alice_session), mut bob_socket) = alice_gone_quiet("presence").await;

    // She does something: she is online again, and Bob is told with her new activity.
    let me = app.get("/whoami", Some(&alice_session)).await;
    let online = presence_of(&mut bob_socket, &alice).await;
    assert_eq!(online["payload"]["online"], true);
    assert_eq!(online["payload"]["lastOnlineAt"], me.data()["lastActivityAt"]);
}

/// A claim that fails (the database refuses it for a while) is tried again with the same people:
/// a friend still hears that someone came online once the database takes writes again, and
/// hears it once.
#[actix_web::test]
async fn an_online_claim_that_failed_is_tried_again_until_friends_are_told() {
    use diesel_async::RunQueryDsl;
    let (app, (alice, alice_session), mut bob_socket) = alice_gone_quiet("refused").await;

    // Every claim online now fails, and leaves a mark outside its rolled-back transaction.
    let mut db = app.db().await;
    for statement in [
        "CREATE SEQUENCE refused_claims",
        "CREATE FUNCTION refuse_claim() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM nextval('refused_claims'); RAISE EXCEPTION 'claims refused by the test'; END $$",
        "CREATE TRIGGER refuse_claim BEFORE UPDATE OF presence_announced ON users FOR EACH ROW \
         WHEN (NEW.presence_announced AND NOT OLD.presence_announced) EXECUTE FUNCTION refuse_claim()",
    ] {
        diesel::sql_query(statement).execute(&mut db).await.unwrap();
    }
    app.get("/whoami", Some(&alice_session)).await.data();
    // Wait for a refused claim (bounded: a test that never sees one fails here).
    let mut refused = false;
    for _ in 0..200 {
        refused =
            diesel::sql_query("SELECT 1 FROM refused_claims WHERE is_called").execute(&mut db).await.unwrap() == 1;
        if refused {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(refused, "the tracker never tried to claim Alice online");
    diesel::sql_query("DROP TRIGGER refuse_claim ON users").execute(&mut db).await.unwrap();

    let online = presence_of(&mut bob_socket, &alice).await;
    assert_eq!(online["payload"]["online"], true);
    bob_socket.silent().await;
}

/// A crowd that comes back at once (a reconnect storm after a deploy) is claimed online in a few
/// batched transactions rather than one per person; each friend still hears of each person
/// exactly once, whichever side sent the friend request.
#[actix_web::test]
async fn a_crowd_coming_back_at_once_is_announced_to_a_friend_once_each() {
    use nosebook_schema::time::Clock;
    let clock = Clock::manual(chrono::Utc::now());
    let app =
        crate::helpers::spawn_app_in(crate::helpers::Env::Manual(clock), crate::support::fresh_database().await).await;
    let (watcher, watcher_session) = app.register("crowd_watcher").await;
    let mut crowd = Vec::new();
    for i in 0..20 {
        let (id, session) = app.register(&format!("crowd_{i}")).await;
        // Half asked by the watcher, half asking the watcher.
        let (from, to, to_id, from_id) = if i % 2 == 0 {
            (&watcher_session, &session, &id, &watcher)
        } else {
            (&session, &watcher_session, &watcher, &id)
        };
        app.post("/friendship/send-request", Some(from), json!({"responderId": to_id})).await.data();
        app.post("/friendship/accept-request", Some(to), json!({"requesterId": from_id})).await.data();
        crowd.push((id, session));
    }
    let mut socket = app.socket(&watcher_session).await;
    let mut presence = async |online: bool| {
        let mut seen = std::collections::HashMap::<String, u32>::new();
        while seen.len() < crowd.len() {
            let event = socket.event().await;
            if event["type"] == "presence" && event["payload"]["online"] == online {
                *seen.entry(event["payload"]["userId"].as_str().unwrap().to_owned()).or_default() += 1;
            }
        }
        seen
    };
    clock.advance(chrono::Duration::minutes(6));
    let gone = presence(false).await;
    assert!(gone.values().all(|n| *n == 1), "offline told once each: {gone:?}");

    futures_util::future::join_all(crowd.iter().map(|(_, session)| app.get("/whoami", Some(session)))).await;
    let back = presence(true).await;
    assert!(back.values().all(|n| *n == 1), "online told once each: {back:?}");
    let mut expected: Vec<&str> = crowd.iter().map(|(id, _)| id.as_str()).collect();
    let mut told: Vec<&str> = back.keys().map(String::as_str).collect();
    expected.sort_unstable();
    told.sort_unstable();
    assert_eq!(told, expected);
}

/// A client that stops reading is cut off once its queue on the server is full; a fast client
/// keeps receiving everything. Small socket buffers on both ends (the server's listener passes
/// its send buffer to the sockets it accepts) make "full" come after a few hundred frames rather
/// than after megabytes of kernel buffering.
#[actix_web::test]
async fn a_slow_client_is_cut_off_and_a_fast_one_keeps_receiving() {
    use diesel_async::RunQueryDsl;
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let small = |socket: &socket2::Socket| {
        socket.set_send_buffer_size(4096).unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
    };
    let listener = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    small(&listener);
    listener.set_reuse_address(true).unwrap();
    listener.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
    listener.listen(1024).unwrap();
    let url = crate::support::fresh_database().await;
    nosebook::seed::compat::load(&mut crate::support::connect(&url).await).await.unwrap();
    let app = crate::helpers::spawn_app_on(crate::helpers::Env::Testing, url, Some(listener.into())).await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();

    // The slow client never reads.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    small(&socket);
    socket.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into()).unwrap();
    socket.set_nonblocking(true).unwrap();
    let stream = tokio::net::TcpStream::from_std(socket.into()).unwrap();
    let mut request = format!("ws://127.0.0.1:{port}/ws").into_client_request().unwrap();
    request.headers_mut().insert("X-Auth-Session-Id", seed::ASSER_SESSION.parse().unwrap());
    let (mut slow, _) = tokio_tungstenite::client_async(request, stream).await.unwrap();
    let mut fast = app.socket(seed::SESSION).await;

    // A flood of 2,048 one-kilobyte events for each of them, straight into the outbox: the relay,
    // RabbitMQ and the hub carry them like any other event. It comes in rounds smaller than the
    // server's queue, the fast client reading each round before the next: a client that reads is
    // never more than a round behind however busy the machine is, while the slow one falls
    // further behind with every round.
    const ROUND: usize = nosebook_notifier::connection::OUTBOUND_QUEUE / 2;
    const EVENTS: usize = 16 * ROUND;
    for _ in 0..EVENTS / ROUND {
        diesel::sql_query(format!(
            "INSERT INTO outbox (recipients, frame) SELECT ARRAY['{}'::uuid, '{}'::uuid], \
             '{{\"type\":\"flood\",\"payload\":\"' || repeat('x', 1000) || '\"}}' FROM generate_series(1, {ROUND})",
            seed::ASS_ASSER,
            seed::TEST_TESTER,
        ))
        .execute(&mut app.db().await)
        .await
        .unwrap();
        for _ in 0..ROUND {
            assert_eq!(fast.event().await["type"], "flood");
        }
    }

    let mut got = 0;
    let ended = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(30), slow.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => got += 1,
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => break None,
            Err(_) => panic!("the slow client was never cut off ({got} events read)"),
        }
    };
    assert!(got < EVENTS, "cut off before the end of the flood, read {got}");
    assert!(matches!(ended, None | Some(1013)), "closed as a slow consumer: {ended:?}");
}

/// Takes a minute: the server pings every 54 s and drops a client 60 s after its last pong.
#[actix_web::test]
async fn a_client_that_never_answers_pings_is_dropped() {
    let app = spawn_compat_app().await;
    let mut mute = app.socket(seed::ASSER_SESSION).await;
    let mut alive = app.socket(seed::SESSION).await;
    // The live client answers pings (tungstenite does while it reads); the mute one reads nothing.
    let keeper = actix_web::rt::spawn(async move {
        alive.keep_reading(std::time::Duration::from_secs(70)).await;
        alive
    });
    tokio::time::sleep(std::time::Duration::from_secs(70)).await;
    // The mute socket ends with a close frame that says why (1008; the original's was empty).
    let ended = mute.end(std::time::Duration::from_secs(5)).await.expect("the mute socket is still open after 70 s");
    assert_eq!(ended.as_deref(), Some("no pong"));
    // The live one is still served: an event reaches it after the minute.
    let mut alive = keeper.await.unwrap();
    app.post("/like/post", Some(seed::ASSER_SESSION), json!({"id": seed::TESTER_POST_ON_DRUG})).await.data();
    assert_eq!(alive.event().await["type"], "post_liked");
}
