//! A real Nosebook app per test: its own database, the real HTTP stack on a random port, and a
//! real HTTP client. The clock is frozen as in `APP_ENV=testing` unless a test asks otherwise.

use nosebook::config::Settings;
use nosebook::startup::Application;
use nosebook_schema::{AsyncPgConnection, DbPool};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub use crate::support::seed;
use crate::support::{connect, fresh_database};

pub struct TestApp {
    pub address: String,
    pub db_url: String,
    pub client: reqwest::Client,
    /// The app's own RabbitMQ exchange (tests run in parallel and share the seed's user ids).
    pub exchange: Option<String>,
    /// The app's own local object storage.
    pub storage_dir: std::path::PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage_dir);
        if let Some(exchange) = self.exchange.take() {
            crate::support::delete_exchange(exchange);
        }
    }
}

/// A server response: status and parsed JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// The `type` of the only error of a failed answer.
    /// How many statements the request sent to PostgreSQL (`X-Db-Statements`, answered in testing).
    pub fn db_statements(&self) -> u32 {
        assert!(self.status.is_success(), "{}", self.text);
        let header = self.headers.get("x-db-statements").expect("X-Db-Statements is answered in testing");
        header.to_str().unwrap().parse().unwrap()
    }

    pub fn error_type(&self) -> &str {
        assert_eq!(self.body["ok"], false, "expected a failure: {}", self.text);
        assert_eq!(self.body["errors"].as_array().map(Vec::len), Some(1), "{}", self.text);
        self.body["errors"][0]["type"].as_str().unwrap_or_default()
    }

    pub fn error_message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap_or_default()
    }

    pub fn data(&self) -> &Value {
        assert_eq!(self.body["ok"], true, "expected success: {}", self.text);
        assert!(self.body.get("errors").is_none(), "errors must be omitted on success");
        &self.body["data"]
    }
}

pub enum Env {
    Testing,
    Dev,
    /// Frozen clock, events delivered in-process (no RabbitMQ).
    TestingWithoutBroker,
    /// A clock the test moves by hand.
    Manual(nosebook_schema::time::Clock),
}

pub async fn spawn_app_in(env: Env, database_url: String) -> TestApp {
    spawn_app_on(env, database_url, None).await
}

/// As [`spawn_app_in`], serving on a listener the test prepared.
pub async fn spawn_app_on(env: Env, database_url: String, listener: Option<std::net::TcpListener>) -> TestApp {
    spawn_app_with(env, database_url, listener, &[]).await
}

/// As [`spawn_app_on`], with more environment variables for the settings.
pub async fn spawn_app_with(
    env: Env,
    database_url: String,
    listener: Option<std::net::TcpListener>,
    extra: &[(&str, String)],
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = nosebook::traces::init(nosebook::config::AppEnv::Testing, "nosebook");
    }
    let app_env = match env {
        Env::Testing | Env::TestingWithoutBroker => "testing",
        Env::Dev | Env::Manual(_) => "dev",
    };
    let exchange = match env {
        Env::TestingWithoutBroker => None,
        _ => Some(format!("nosebook_test_{}", uuid::Uuid::new_v4().simple())),
    };
    let storage_dir = std::env::temp_dir().join(format!("nosebook-test-storage-{}", uuid::Uuid::new_v4().simple()));
    let settings = Settings::from_lookup(|var| match var {
        _ if let Some((_, value)) = extra.iter().find(|(name, _)| *name == var) => Some(value.clone()),
        "NOSEBOOK_STORAGE_DIR" => Some(storage_dir.display().to_string()),
        "APP_ENV" => Some(app_env.into()),
        "DATABASE_URL" => Some(database_url.clone()),
        "NOSEBOOK_LISTEN" => Some("127.0.0.1:0".into()),
        "NOSEBOOK_WORKERS" => Some("1".into()),
        "NOSEBOOK_DB_POOL_SIZE" => Some("4".into()),
        "NOSEBOOK_DB_TIMEOUT_SECS" => Some("2".into()),
        "AMQP_URL" => Some(exchange.as_ref().map_or_else(|| "off".to_owned(), |_| crate::support::amqp_url())),
        "NOSEBOOK_AMQP_EXCHANGE" => exchange.clone(),
        // Every test signs people up and writes from one address as fast as it can; the tests
        // of these limits (`limits.rs`) set them.
        "NOSEBOOK_LIMIT_SIGNUPS_PER_HOUR" | "NOSEBOOK_LIMIT_WRITES" => Some("off".into()),
        _ => None,
    })
    .unwrap();
    let mut settings = settings;
    if let Env::Manual(clock) = env {
        settings.clock_override = Some(clock);
    }
    let pool = DbPool::new(&settings.pool()).unwrap();
    let app = Application::with_listener(&settings, pool, listener).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    // Idle connections are dropped before the server's 5 s keep-alive would close them under a request.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(3))
        .build()
        .unwrap();
    TestApp { address, db_url: database_url, client, exchange, storage_dir }
}

/// An app on an empty, migrated database with the frozen clock.
pub async fn spawn_app() -> TestApp {
    spawn_app_in(Env::Testing, fresh_database().await).await
}

/// An app on the original's seed data with the frozen clock: the compatibility set-up.
pub async fn spawn_compat_app() -> TestApp {
    let url = fresh_database().await;
    let mut conn = connect(&url).await;
    nosebook::seed::compat::load(&mut conn).await.unwrap();
    spawn_app_in(Env::Testing, url).await
}

impl TestApp {
    pub async fn db(&self) -> AsyncPgConnection {
        connect(&self.db_url).await
    }

    async fn send(&self, request: reqwest::RequestBuilder, session: Option<&str>) -> Answer {
        let request = match session {
            Some(id) => request.header("X-Auth-Session-Id", id),
            None => request,
        };
        let response = request.send().await.expect("request failed");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body, text, headers }
    }

    pub async fn get(&self, path: &str, session: Option<&str>) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.address)), session).await
    }

    /// POSTs raw bytes with no content type, as the original's k6 scripts do.
    pub async fn post_raw(&self, path: &str, session: Option<&str>, body: impl Into<reqwest::Body>) -> Answer {
        self.send(self.client.post(format!("{}{path}", self.address)).body(body), session).await
    }

    pub async fn send_with_content_type(&self, path: &str, body: &str, content_type: &str) -> Answer {
        let request = self
            .client
            .post(format!("{}{path}", self.address))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_owned());
        self.send(request, None).await
    }

    pub async fn post(&self, path: &str, session: Option<&str>, body: Value) -> Answer {
        self.send(self.client.post(format!("{}{path}", self.address)).json(&body), session).await
    }

    /// Registers someone and returns (user id, session id).
    pub async fn register(&self, nick: &str) -> (String, String) {
        let answer = self
            .post(
                "/register",
                None,
                serde_json::json!({"firstName": "Test", "lastName": "Person", "nick": nick, "password": "password123"}),
            )
            .await;
        let data = answer.data();
        (data["user"]["id"].as_str().unwrap().to_owned(), data["session"]["sessionId"].as_str().unwrap().to_owned())
    }
}

/// `?key=value` for a cursor, URL-encoded.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

/// A real WebSocket client on `/ws`.
pub struct Socket {
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    /// Opened with `?cursor`: stored events carry their cursor. Without it the socket speaks the
    /// original protocol, and a frame with a `cursor` fails the test.
    resumes: bool,
}

/// How long a test waits for an event that must come.
const EVENT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl TestApp {
    fn ws_request(&self) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        self.ws_request_to("/ws")
    }

    fn ws_request_to(&self, path: &str) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        format!("{}{path}", self.address.replacen("http", "ws", 1)).into_client_request().unwrap()
    }

    /// Opens a socket that resumes after `cursor` (`""`: a new start that asks for `ready`).
    pub async fn resuming_socket(&self, session: &str, cursor: &str) -> Socket {
        let mut request = self.ws_request_to(&format!("/ws?cursor={}", encode(cursor)));
        request.headers_mut().insert("X-Auth-Session-Id", session.parse().unwrap());
        let (stream, response) = tokio_tungstenite::connect_async(request).await.expect("websocket upgrade refused");
        assert_eq!(response.status(), 101);
        Socket { stream, resumes: true }
    }

    /// Opens a socket with the session header.
    pub async fn socket(&self, session: &str) -> Socket {
        let mut request = self.ws_request();
        request.headers_mut().insert("X-Auth-Session-Id", session.parse().unwrap());
        let (stream, response) = tokio_tungstenite::connect_async(request).await.expect("websocket upgrade refused");
        assert_eq!(response.status(), 101);
        Socket { stream, resumes: false }
    }

    /// Tries an upgrade with these headers; returns the refusal's status and body.
    pub async fn refused_upgrade(&self, headers: &[(&str, &str)]) -> (u16, String) {
        let mut request = self.ws_request();
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok(_) => panic!("the upgrade was accepted"),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let body =
                    response.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
                (response.status().as_u16(), body)
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    /// Opens a socket with the session header, or answers the refusal's status.
    pub async fn try_socket(&self, session: &str) -> Result<Socket, u16> {
        self.try_socket_at(session, "/ws").await
    }

    /// As [`TestApp::try_socket`], at `path` (with its query).
    pub async fn try_socket_at(&self, session: &str, path: &str) -> Result<Socket, u16> {
        let mut request = self.ws_request_to(path);
        request.headers_mut().insert("X-Auth-Session-Id", session.parse().unwrap());
        let resumes = path.contains("cursor=");
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Socket { stream, resumes }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    /// Opens a socket with only the browser cookie.
    pub async fn socket_with_cookie(&self, cookie: &str) -> Result<Socket, u16> {
        let mut request = self.ws_request();
        request.headers_mut().insert("Cookie", cookie.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((stream, _)) => Ok(Socket { stream, resumes: false }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}

impl Socket {
    /// The next event in the original's shape (`{type, payload}`): on a socket that resumes,
    /// without the `cursor` a stored event also carries there (`frame` keeps it), so the same
    /// event on different sockets compares equal; on any other socket a `cursor` fails the test.
    pub async fn event(&mut self) -> Value {
        let mut frame = self.frame().await;
        if let Some(fields) = frame.as_object_mut() {
            let cursor = fields.remove("cursor");
            assert!(self.resumes || cursor.is_none(), "a socket opened without ?cursor got one: {frame}");
        }
        frame
    }

    /// The next frame as it came, parsed; fails the test after a while.
    pub async fn frame(&mut self) -> Value {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame = tokio::time::timeout(EVENT_WAIT, self.stream.next())
                .await
                .expect("no event arrived")
                .expect("the socket closed")
                .expect("websocket error");
            match frame {
                Message::Text(text) => return serde_json::from_str(&text).expect("an event is one JSON object"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame: {other:?}"),
            }
        }
    }

    /// Asserts that nothing arrives for a moment (used after an event that must come, so the
    /// pipeline is known to be flowing).
    pub async fn silent(&mut self) {
        use futures_util::StreamExt;
        if let Ok(Some(frame)) = tokio::time::timeout(std::time::Duration::from_millis(500), self.stream.next()).await {
            panic!("expected nothing, got {frame:?}");
        }
    }

    /// Reads (and so answers pings) for a while, ignoring what arrives.
    pub async fn keep_reading(&mut self, duration: std::time::Duration) {
        use futures_util::StreamExt;
        let deadline = tokio::time::Instant::now() + duration;
        while let Ok(Some(Ok(_))) = tokio::time::timeout_at(deadline, self.stream.next()).await {}
    }

    /// Closes the socket from the client's side, as a browser tab does.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        let _ = self.end(std::time::Duration::from_secs(5)).await;
    }

    /// Reads until the connection ends: `Ok(Some(reason))` for a close frame, `Ok(None)` for an
    /// end without one, `Err` if it is still open after `wait`.
    pub async fn end(&mut self, wait: std::time::Duration) -> Result<Option<String>, ()> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Ok(Some(frame.map(|f| f.reason.to_string()).unwrap_or_default()));
                }
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return Ok(None),
                Err(_) => return Err(()),
            }
        }
    }

    pub async fn send_text(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.stream.send(tokio_tungstenite::tungstenite::Message::text(text)).await.unwrap();
    }
}

/// The seed's tester writes to asser; answers the message as its `new_message` event shows it on
/// every one of `sockets` (the same on each).
pub async fn send_to_asser(app: &TestApp, text: &str, sockets: &mut [&mut Socket]) -> Value {
    let sent = app
        .post("/conversations/send-message", Some(seed::SESSION), json!({"recipientId": seed::ASS_ASSER, "text": text}))
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let mut first = None;
    for socket in sockets.iter_mut() {
        let event = socket.event().await;
        assert_eq!(event["type"], "new_message");
        assert_eq!(first.get_or_insert_with(|| event.clone()), &event);
    }
    first.expect("a socket")["payload"].clone()
}
