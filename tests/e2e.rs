//! End to end: the real `nosebook` binary, as an operator runs it (`migrate`, `seed compat`,
//! `serve` with `APP_ENV=testing`), driven over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::seed;
use support::server::{BIN, nosebook, serve, serve_with};

async fn get(client: &reqwest::Client, url: String, session: &str) -> (u16, Value) {
    let response = client.get(url).header("X-Auth-Session-Id", session).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_binary_migrates_seeds_and_serves_the_compat_api() {
    let db = support::empty_database().await;
    let migrate = nosebook(&["migrate"], &db);
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let seed = nosebook(&["seed", "compat"], &db);
    assert!(seed.status.success(), "{}", String::from_utf8_lossy(&seed.stderr));
    // Seeding twice is refused: the data set goes into an empty database only.
    let again = nosebook(&["seed", "compat"], &db);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has users"));

    let (_server, base) = serve(&db).await;
    let client = reqwest::Client::new();

    let (status, me) = get(&client, format!("{base}/whoami"), seed::SESSION).await;
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({"ok": true, "data": {
            "id": seed::TEST_TESTER, "firstName": "Test", "lastName": "Tester", "nick": "test_tester",
            "createdAt": "2024-08-01T00:00:00Z", "lastActivityAt": "2024-08-10T10:10:10Z"}})
    );

    let (_, tester) = get(&client, format!("{base}/users/{}", seed::TEST_TESTER), seed::SESSION).await;
    assert_eq!(tester["data"]["online"], true);
    assert_eq!(tester["data"]["lastOnlineAt"], "2024-08-10T10:10:10Z");
    let (_, drug) = get(&client, format!("{base}/users/{}", seed::DRUGTESTER), seed::SESSION).await;
    assert_eq!(
        drug,
        json!({"ok": true, "data": {
            "id": seed::DRUGTESTER, "firstName": "Ilya", "lastName": "Blinkov", "nick": "drugtester",
            "lastOnlineAt": "2024-08-10T10:01:02Z", "online": false}})
    );

    let (_, found) = get(&client, format!("{base}/users?text=tester"), seed::SESSION).await;
    let nicks: Vec<&str> =
        found["data"]["data"].as_array().unwrap().iter().map(|u| u["nick"].as_str().unwrap()).collect();
    assert_eq!(nicks, ["test_tester", "drugtester"]);
    assert_eq!(found["data"]["totalCount"], 2);
    assert!(found["data"].get("next").is_none());

    let (status, anonymous) = get(&client, format!("{base}/whoami"), "").await;
    assert_eq!(status, 403);
    assert_eq!(anonymous["errors"][0]["type"], "Not Authenticated");
}

#[test]
fn an_unreachable_database_is_one_clear_line_and_a_failure() {
    let out = nosebook(&["migrate"], "postgres://postgres@127.0.0.1:1/nowhere");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("nosebook: cannot reach the database at postgres://postgres@127.0.0.1:1/nowhere"),
        "{stderr}"
    );
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next event on a socket (pings skipped).
async fn event(socket: &mut Socket) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("no event arrived") {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("unexpected: {other:?}"),
        }
    }
}

/// Talks to the server as one signed-in person.
struct Person {
    client: reqwest::Client,
    base: String,
    id: String,
    session: String,
}

impl Person {
    async fn register(base: &str, nick: &str) -> Self {
        let client = reqwest::Client::new();
        let body = json!({"firstName": nick, "lastName": "E2E", "nick": nick, "password": "password123"});
        let answer: Value =
            client.post(format!("{base}/register")).json(&body).send().await.unwrap().json().await.unwrap();
        Self {
            id: answer["data"]["user"]["id"].as_str().unwrap().to_owned(),
            session: answer["data"]["session"]["sessionId"].as_str().unwrap().to_owned(),
            client,
            base: base.to_owned(),
        }
    }

    /// The `data` of a successful answer; panics on anything else.
    async fn ok(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.header("X-Auth-Session-Id", &self.session).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success() && body["ok"] == true, "{status}: {body}");
        body["data"].clone()
    }

    async fn socket(&self) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("{}/ws", self.base.replacen("http", "ws", 1)).into_client_request().unwrap();
        request.headers_mut().insert("X-Auth-Session-Id", self.session.parse().unwrap());
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }

    async fn get(&self, path: &str) -> Value {
        self.ok(self.client.get(format!("{}{path}", self.base))).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.ok(self.client.post(format!("{}{path}", self.base)).json(&body)).await
    }
}

#[tokio::test]
async fn a_wall_its_comments_likes_and_a_friendship_over_real_http() {
    let db = support::empty_database().await;
    assert!(nosebook(&["migrate"], &db).status.success());
    let (_server, base) = serve(&db).await;
    let alice = Person::register(&base, "alice_e2e").await;
    let bob = Person::register(&base, "bob_e2e").await;

    let mut alice_socket = alice.socket().await;
    let mut bob_socket = bob.socket().await;

    // Friendship: request, the badge, accept, relation — each announced live.
    let request = alice.post("/friendship/send-request", json!({"responderId": bob.id, "message": "hi bob"})).await;
    assert_eq!(request["accepted"], false);
    let heard = event(&mut bob_socket).await;
    assert_eq!(
        (heard["type"].as_str(), heard["payload"]["requester"]["nick"].as_str()),
        (Some("friend_request"), Some("alice_e2e"))
    );
    let badge = bob.get(&format!("/friendship?userId={}&accepted=false&viewed=false&onlyIncoming", bob.id)).await;
    assert_eq!(badge["totalCount"], 1);
    assert_eq!(badge["data"][0]["user"]["nick"], "alice_e2e");
    let accepted = bob.post("/friendship/accept-request", json!({"requesterId": alice.id})).await;
    assert_eq!(accepted["accepted"], true);
    assert_eq!(event(&mut alice_socket).await["type"], "friend_request_accepted");
    let relation =
        alice.get(&format!("/friendship/relation-between?sourceUserId={}&targetUserIds={}", alice.id, bob.id)).await;
    assert_eq!(relation, json!({"friendIds": [bob.id]}));

    // A wall: Alice writes on Bob's wall, Bob comments, Alice likes both.
    let post = alice.post("/posts/publish", json!({"ownerId": bob.id, "message": "Happy birthday, Bob!"})).await;
    let post_id = post["id"].as_str().unwrap().to_owned();
    let comment = bob.post("/comments/publish-on-post", json!({"id": post_id, "message": "Thanks!"})).await;
    let comment_id = comment["id"].as_str().unwrap().to_owned();
    assert_eq!(alice.post("/like/post", json!({"id": post_id})).await["liked"], true);
    assert_eq!(alice.post("/like/comment", json!({"id": comment_id})).await["liked"], true);
    let liked = event(&mut bob_socket).await;
    assert_eq!(liked["type"], "comment_liked");
    assert_eq!(liked["payload"]["message"], "Thanks!");

    let wall = bob.get(&format!("/posts?ownerId={}", bob.id)).await;
    assert_eq!(wall["totalCount"], 1);
    let shown = &wall["data"][0];
    assert_eq!(shown["message"], "Happy birthday, Bob!");
    assert_eq!(shown["author"]["nick"], "alice_e2e");
    assert_eq!(shown["owner"]["nick"], "bob_e2e");
    assert_eq!(shown["likes"]["count"], 1);
    assert_eq!(shown["likes"]["liked"], false, "Bob did not like it");
    assert_eq!(shown["likes"]["randomFiveLikers"][0]["nick"], "alice_e2e");
    assert_eq!(shown["permissions"], json!({"remove": true, "update": false}));
    assert_eq!(shown["recentComments"]["totalCount"], 1);
    assert_eq!(shown["recentComments"]["data"][0]["message"], "Thanks!");
    assert_eq!(shown["recentComments"]["data"][0]["likes"]["count"], 1);
    let comments = alice.get(&format!("/comments?postId={post_id}")).await;
    assert_eq!(comments["data"][0]["id"], comment_id.as_str());
    assert_eq!(comments["data"][0]["likes"]["liked"], true);

    // Unlike, then the wall owner removes the post.
    assert_eq!(alice.post("/like/post", json!({"id": post_id})).await["liked"], false);
    assert_eq!(bob.post("/posts/remove", json!({"id": post_id})).await["id"], post_id.as_str());
    assert_eq!(bob.get(&format!("/posts?ownerId={}", bob.id)).await["totalCount"], 0);
    assert_eq!(bob.get(&format!("/posts/{post_id}")).await, Value::Null);

    // Unfriending leaves Bob as a pending request to Alice.
    let removed = alice.post("/friendship/remove-friend", json!({"friendId": bob.id})).await;
    assert_eq!(
        (removed["requesterId"].as_str(), removed["responderId"].as_str()),
        (Some(bob.id.as_str()), Some(alice.id.as_str()))
    );
    let pending = alice.get(&format!("/friendship?userId={}&onlyIncoming&accepted=false", alice.id)).await;
    assert_eq!(pending["data"][0]["user"]["nick"], "bob_e2e");
}

#[tokio::test]
async fn messages_reach_every_socket_of_every_member_from_the_real_binary() {
    let db = support::empty_database().await;
    assert!(nosebook(&["migrate"], &db).status.success());
    let (_server, base) = serve(&db).await;
    let gina = Person::register(&base, "gina_e2e").await;
    let hugo = Person::register(&base, "hugo_e2e").await;
    let iris = Person::register(&base, "iris_e2e").await;
    let stranger = Person::register(&base, "stranger_e2e").await;
    // Two sockets for Gina (two tabs), one for each of the others.
    let mut sockets = vec![gina.socket().await, gina.socket().await, hugo.socket().await, iris.socket().await];
    let mut outsider = stranger.socket().await;

    // A private message: both of Gina's tabs and Hugo.
    hugo.post("/conversations/send-message", json!({"recipientId": gina.id, "text": "psst"})).await;
    for socket in &mut sockets[..3] {
        let heard = event(socket).await;
        assert_eq!((heard["type"].as_str(), heard["payload"]["text"].as_str()), (Some("new_message"), Some("psst")));
    }

    // A group of three: everyone hears its creation, then its messages, on every socket.
    let group = gina.post("/chats/create-group", json!({"title": "Three", "memberIds": [hugo.id, iris.id]})).await;
    for socket in &mut sockets {
        let heard = event(socket).await;
        assert_eq!(heard["type"], "chat_updated");
        assert_eq!(heard["payload"]["id"], group["id"]);
    }
    iris.post("/conversations/send-message", json!({"chatId": group["id"], "text": "hello group"})).await;
    for socket in &mut sockets {
        let heard = event(socket).await;
        assert_eq!(heard["payload"]["text"], "hello group");
        assert_eq!(heard["payload"]["author"]["nick"], "iris_e2e");
    }
    // Nothing reached the outsider, who can neither read nor post there.
    hugo.post("/conversations/send-message", json!({"recipientId": stranger.id, "text": "only you"})).await;
    assert_eq!(event(&mut outsider).await["payload"]["text"], "only you", "the first event the outsider sees");
    let refused = stranger
        .client
        .post(format!("{base}/conversations/send-message"))
        .header("X-Auth-Session-Id", &stranger.session)
        .json(&json!({"chatId": group["id"], "text": "let me in"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

/// One span as an OTLP receiver got it.
#[derive(Debug, Clone)]
struct ReceivedSpan {
    name: String,
    trace_id: String,
    service: String,
    /// How it came: `protobuf` or `json` over HTTP, or `grpc`.
    via: &'static str,
}

type Spans = std::sync::Arc<std::sync::Mutex<Vec<ReceivedSpan>>>;

/// Adds the spans of one export request to what a receiver got.
fn record(
    spans: &Spans,
    via: &'static str,
    request: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
) {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    let mut spans = spans.lock().unwrap();
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .and_then(|a| match a.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Any::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
            let trace_id = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
            spans.push(ReceivedSpan { name: span.name, trace_id, service: service.clone(), via });
        }
    }
}

/// A real OTLP/HTTP receiver on 127.0.0.1: decodes every `POST /v1/traces` (protobuf or JSON)
/// into spans.
async fn otlp_receiver() -> (String, Spans) {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let spans = Spans::default();
    let received = spans.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let spans = received.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                loop {
                    // One request: headers, then Content-Length bytes of body.
                    let head_end = loop {
                        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            break at + 4;
                        }
                        let mut chunk = [0u8; 8192];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    while buffer.len() < head_end + length {
                        let mut chunk = [0u8; 65536];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body: Vec<u8> = buffer.drain(..head_end + length).skip(head_end).collect();
                    if head.starts_with("post /v1/traces") {
                        if head.contains("\r\ncontent-type: application/json") {
                            record(&spans, "json", serde_json::from_slice(&body).unwrap());
                        } else {
                            record(&spans, "protobuf", ExportTraceServiceRequest::decode(body.as_slice()).unwrap());
                        }
                    }
                    let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if stream.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (endpoint, spans)
}

/// A real OTLP/gRPC receiver on 127.0.0.1: the collector's trace service, served by tonic.
async fn otlp_grpc_receiver() -> (String, Spans) {
    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
    use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};

    struct Collector(Spans);

    #[tonic::async_trait]
    impl TraceService for Collector {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            record(&self.0, "grpc", request.into_inner());
            Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
        }
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let spans = Spans::default();
    let service = TraceServiceServer::new(Collector(spans.clone()));
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    (endpoint, spans)
}

/// Waits until a receiver has a span of `trace_id`; its services.
async fn spans_of(spans: &Spans, trace_id: &str) -> Vec<ReceivedSpan> {
    for _ in 0..100 {
        let received: Vec<_> = spans.lock().unwrap().iter().filter(|s| s.trace_id == trace_id).cloned().collect();
        if !received.is_empty() {
            return received;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no span of trace {trace_id} arrived; the receiver got {:?}", spans.lock().unwrap());
}

/// Serves with traces sent to `endpoint` as `protocol` (named by `variable`), pings, and checks
/// that the ping's span arrived, all of it `via` the expected encoding.
async fn ping_traced(endpoint: String, spans: &Spans, variable: &str, protocol: &str, via: &str) {
    let db = support::empty_database().await;
    assert!(nosebook(&["migrate"], &db).status.success());
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        (variable, protocol.to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ];
    let (_server, base) = serve_with(&db, &env).await;
    let pinged = reqwest::get(format!("{base}/ping")).await.unwrap();
    let trace_id = pinged.headers()["x-trace-id"].to_str().unwrap().to_owned();
    let received = spans_of(spans, &trace_id).await;
    assert!(received.iter().any(|s| s.name == "GET /ping" && s.service == "nosebook"), "{received:?}");
    assert!(received.iter().all(|s| s.via == via), "{received:?}");
}

#[tokio::test]
async fn traces_go_over_grpc_when_the_standard_variable_says_so() {
    let (endpoint, spans) = otlp_grpc_receiver().await;
    ping_traced(endpoint, &spans, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "grpc").await;
}

#[tokio::test]
async fn traces_go_as_json_over_http_when_asked() {
    let (endpoint, spans) = otlp_receiver().await;
    ping_traced(endpoint, &spans, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json", "json").await;
}

#[test]
fn an_unknown_otlp_protocol_stops_the_start() {
    let out = Command::new(BIN)
        .arg("serve")
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "gRPC")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        r#"nosebook: configuration error: OTEL_EXPORTER_OTLP_PROTOCOL: "gRPC" is not one of grpc, http/protobuf, http/json"#
    );
}

#[tokio::test]
async fn one_trace_follows_a_message_from_the_request_through_rabbitmq_to_the_socket() {
    let (endpoint, spans) = otlp_receiver().await;
    let db = support::empty_database().await;
    assert!(nosebook(&["migrate"], &db).status.success());
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned())];
    let (_server, base) = serve_with(&db, &env).await;
    let jane = Person::register(&base, "jane_trace").await;
    let kurt = Person::register(&base, "kurt_trace").await;
    let mut kurts = kurt.socket().await;
    let sent = jane
        .client
        .post(format!("{base}/conversations/send-message"))
        .header("X-Auth-Session-Id", &jane.session)
        .json(&json!({"recipientId": kurt.id, "text": "traced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let trace_id = sent.headers()["x-trace-id"].to_str().unwrap().to_owned();
    assert_eq!(event(&mut kurts).await["payload"]["text"], "traced");

    // The request's span names the trace; every hop of its event must join it.
    let hops = ["chat.send", "db.query", "outbox.publish", "notifier.deliver", "ws.send"];
    let mut last = Vec::new();
    for _ in 0..100 {
        let received = spans.lock().unwrap().clone();
        let request = received.iter().find(|s| s.name == "POST /conversations/send-message");
        if let Some(request) = request {
            assert_eq!(request.trace_id, trace_id, "the response names its trace");
            let in_trace: Vec<_> = received.iter().filter(|s| s.trace_id == request.trace_id).collect();
            let names: BTreeSet<&str> = in_trace.iter().map(|s| s.name.as_str()).collect();
            if hops.iter().all(|hop| names.contains(hop)) {
                assert!(in_trace.iter().all(|s| s.service == "nosebook" && s.via == "protobuf"), "{in_trace:?}");
                // Two recipients (sender and receiver), one event: published once, in the trace.
                assert_eq!(in_trace.iter().filter(|s| s.name == "outbox.publish").count(), 1);
                return;
            }
            last = names.into_iter().map(str::to_owned).collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the trace never had every hop; it had {last:?}");
}

#[tokio::test]
async fn sigterm_tells_open_sockets_to_go_and_exits_cleanly() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let db = support::empty_database().await;
    assert!(nosebook(&["migrate"], &db).status.success());
    // A drain time far longer than the test waits: the sockets must not hold the exit up.
    let (mut server, base) = serve_with(&db, &[("NOSEBOOK_DRAIN_SECS", "120".into())]).await;
    let person = Person::register(&base, "leaving_e2e").await;
    let mut sockets = [person.socket().await, person.socket().await];

    server.terminate();
    for socket in &mut sockets {
        let close = loop {
            match tokio::time::timeout(Duration::from_secs(30), socket.next()).await.expect("no close frame") {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        };
        assert_eq!(close.as_ref().map(|f| f.code), Some(CloseCode::Restart));
        assert_eq!(close.map(|f| f.reason.to_string()).as_deref(), Some("service restart"));
    }
    let status = server.exited(Duration::from_secs(60)).await.expect("still running after the sockets closed");
    assert!(status.success(), "{status}");
}

/// A started node has connections to the database before its first request, so that request
/// does not wait for one to be established.
#[tokio::test]
async fn a_node_opens_its_database_connections_before_the_first_request() {
    let db = support::fresh_database().await;
    let (_server, base) = serve(&db).await;
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    let held: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("nosebook_db_pool_connections{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(held >= 4.0, "{held} connections held:\n{metrics}");
}
