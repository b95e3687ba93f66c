//! The server as a client sees it: JSON over HTTP with the session header, and WebSockets.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// What a throttled run should do: the server's limits on abuse are for people, not for a load
/// generator that opens thousands of sockets from one address (docs/configuration.md, "Limits").
pub const UPGRADES_HINT: &str =
    "start the server with NOSEBOOK_LIMIT_WS_UPGRADES=off (docs/configuration.md, \"Limits\")";
pub const WRITES_HINT: &str =
    "start the server with a higher NOSEBOOK_LIMIT_WRITES, or =off (docs/configuration.md, \"Limits\")";

/// Requests slower than this count as errors (`timeout`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(1024)
            // Below the server's 5 s keep-alive, so an idle connection is never reused as it closes.
            .pool_idle_timeout(Duration::from_secs(3))
            .build()?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned() })
    }

    /// `data` of a successful answer; the error is its kind, for the report.
    pub async fn get(&self, path: &str, session: &str) -> Result<Value, String> {
        self.call(self.http.get(format!("{}{path}", self.base)), session).await
    }

    pub async fn post(&self, path: &str, session: &str, body: &Value) -> Result<Value, String> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(body), session).await
    }

    /// A page of the web app: a 200 with HTML, read to the end.
    pub async fn page(&self, path: &str, cookie: &str) -> Result<(), String> {
        let response = self.http.get(format!("{}{path}", self.base)).header("Cookie", cookie).send().await;
        let response = response.map_err(|e| kind_of(&e))?;
        let status = response.status();
        let html = response.text().await.map_err(|e| kind_of(&e))?;
        if status.is_success() && html.starts_with("<!DOCTYPE html>") {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }

    /// `GET /metrics`, read to the end, as Prometheus scrapes it.
    pub async fn metrics(&self) -> Result<(), String> {
        let response = self.http.get(format!("{}/metrics", self.base)).send().await.map_err(|e| kind_of(&e))?;
        let status = response.status();
        response.bytes().await.map_err(|e| kind_of(&e))?;
        if status.is_success() { Ok(()) } else { Err(format!("HTTP {}", status.as_u16())) }
    }

    async fn call(&self, request: reqwest::RequestBuilder, session: &str) -> Result<Value, String> {
        let response = request.header("X-Auth-Session-Id", session).send().await.map_err(|e| kind_of(&e))?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| kind_of(&e))?;
        if status.is_success() && body["ok"] == true {
            Ok(body["data"].clone())
        } else if status.as_u16() == 429 {
            Err(format!("HTTP 429 (throttled: {WRITES_HINT})"))
        } else {
            Err(format!("HTTP {} {}", status.as_u16(), body["errors"][0]["type"].as_str().unwrap_or("?")))
        }
    }

    /// Opens `/ws` for `session`, from `source` when given (spreading many sockets over several
    /// loopback addresses passes the ephemeral-port limit of one address).
    /// An upgrade slower than [`REQUEST_TIMEOUT`] counts as an error (`timeout`): a wedged server
    /// must end the run with a report, not hang it.
    pub async fn socket(&self, session: &str, source: Option<IpAddr>) -> Result<Socket, String> {
        self.socket_at("/ws", session, source).await
    }

    /// As [`Api::socket`], at `path` (`/ws?cursor=…` resumes).
    pub async fn socket_at(&self, path: &str, session: &str, source: Option<IpAddr>) -> Result<Socket, String> {
        Ok(self.socket_timed(path, session, source).await?.0)
    }

    /// As [`Self::socket_at`], also answering when its TCP connection was established (the rest
    /// is the upgrade's request and answer).
    pub async fn socket_timed(
        &self,
        path: &str,
        session: &str,
        source: Option<IpAddr>,
    ) -> Result<(Socket, Instant), String> {
        tokio::time::timeout(REQUEST_TIMEOUT, self.upgrade(path, session, source))
            .await
            .unwrap_or(Err("timeout".into()))
    }

    async fn upgrade(&self, path: &str, session: &str, source: Option<IpAddr>) -> Result<(Socket, Instant), String> {
        let url = format!("{}{path}", self.base.replacen("http", "ws", 1));
        let mut request = url.as_str().into_client_request().map_err(|e| format!("bad url: {e}"))?;
        let header = session.parse().map_err(|_| "bad session".to_owned())?;
        request.headers_mut().insert("X-Auth-Session-Id", header);
        let host = request.uri().host().unwrap_or("127.0.0.1").to_owned();
        let port = request.uri().port_u16().unwrap_or(80);
        let stream = match source {
            None => {
                tokio::net::TcpStream::connect((host.as_str(), port)).await.map_err(|e| format!("io: {}", e.kind()))?
            }
            Some(ip) => {
                let target: SocketAddr = tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .ok()
                    .and_then(|mut a| a.next())
                    .ok_or("no address")?;
                let tcp = if ip.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }
                    .map_err(|e| format!("socket: {}", e.kind()))?;
                tcp.bind(SocketAddr::new(ip, 0)).map_err(|e| format!("bind {ip}: {}", e.kind()))?;
                tcp.connect(target).await.map_err(|e| format!("connect: {}", e.kind()))?
            }
        };
        let connected = Instant::now();
        let socket =
            tokio_tungstenite::client_async_with_config(request, MaybeTlsStream::Plain(stream), Some(socket_config()))
                .await
                .map(|(s, _)| (s, connected));
        socket.map_err(|e| match e {
            tokio_tungstenite::tungstenite::Error::Http(response) if response.status().as_u16() == 429 => {
                format!("upgrade refused: HTTP 429 (throttled: {UPGRADES_HINT})")
            }
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                format!("upgrade refused: HTTP {}", response.status().as_u16())
            }
            tokio_tungstenite::tungstenite::Error::Io(e) => format!("io: {}", e.kind()),
            other => format!("websocket: {other}"),
        })
    }
}

/// How the tool's sockets buffer. tungstenite zero-fills its whole read buffer (128 KiB by
/// default) before every read; the tool's frames are a few hundred bytes, and with thousands of
/// sockets on the machine it measures, that filling was the largest part of its own CPU.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(READ_BUFFER)
}

/// Bytes a socket reads at once: a frame larger than this is read in several goes.
const READ_BUFFER: usize = 4096;

/// `value` percent-encoded for a query string (everything but RFC 3986's unreserved characters).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

fn kind_of(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else if e.is_decode() {
        "bad body".into()
    } else {
        "transport".into()
    }
}
