//! The scenarios, and what they share: preparing sockets and reading their events.

pub mod chats;
pub mod connections;
pub mod fanout;
pub mod faults;
pub mod feed;
pub mod messaging;
pub mod mixed;
pub mod pages;
pub mod read;
pub mod restarts;
pub mod resume;
pub mod soak;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::client::{Api, Socket};
use crate::seed::Account;
use crate::stats::Series;

/// How long after the load ends events may still arrive before they count as lost.
pub const GRACE: Duration = Duration::from_secs(10);

/// Opens one socket per account, a few at a time: account i's at `nodes[i % n]`.
pub async fn open_sockets(nodes: &[Api], accounts: &[Account]) -> anyhow::Result<Vec<Socket>> {
    anyhow::ensure!(!nodes.is_empty(), "no node to open sockets at");
    let opened: Vec<Result<Socket, String>> = stream::iter(accounts.iter().enumerate().map(|(i, a)| {
        let api = nodes[i % nodes.len()].clone();
        let session = a.session();
        async move { api.socket(&session, None).await }
    }))
    .buffered(64)
    .collect()
    .await;
    opened.into_iter().collect::<Result<_, _>>().map_err(|e| anyhow::anyhow!("opening the sockets: {e}"))
}

/// Signs every account in once before the clock starts (`GET /whoami`), as people who are
/// browsing already are: the run measures steady state, not a login storm.
pub async fn warm_up(api: &Api, accounts: &[Account]) -> anyhow::Result<()> {
    let answers: Vec<Result<(), String>> = stream::iter(accounts.iter().map(|a| {
        let api = api.clone();
        let session = a.session();
        async move { api.get("/whoami", &session).await.map(drop) }
    }))
    .buffer_unordered(32)
    .collect()
    .await;
    answers.into_iter().collect::<Result<(), _>>().map_err(|e| anyhow::anyhow!("warm-up: {e}"))
}

/// Counters of a socket's life while it is read.
#[derive(Default)]
pub struct SocketHealth {
    pub pings: AtomicU64,
    pub closed: AtomicU64,
    /// Closes the client started that the server answered with a close frame echoing 1000.
    pub clean_closes: AtomicU64,
    /// Closes the client started that ended any other way.
    pub unclean_closes: AtomicU64,
}

/// Where a measurement goes: a [`Series`] of this process, or a line to the parent process
/// (a worker of `connections`, `workers.rs`).
pub trait Sink: Send + Sync {
    fn record(&self, since: Instant, latency: Duration);
    fn error(&self, kind: &str);
}

impl Sink for Series {
    fn record(&self, since: Instant, latency: Duration) {
        Series::record(self, since, latency);
    }

    fn error(&self, kind: &str) {
        Series::error(self, kind);
    }
}

/// Tells sockets to close from the client's side, and times each close handshake.
#[derive(Clone)]
pub struct Closer {
    pub signal: watch::Receiver<bool>,
    /// From the client's close frame to the server's answer.
    pub answers: Arc<dyn Sink>,
    /// From the client's close frame to the end of the connection; an error when the server
    /// ended it without answering with a close frame echoing 1000.
    pub handshakes: Arc<dyn Sink>,
}

/// Reads a socket until it closes (answering pings), handing every `new_message` payload to
/// `on_message`.
pub fn listen(socket: Socket, health: Arc<SocketHealth>, on_message: impl Fn(&Value) + Send + 'static) {
    listen_until(socket, health, on_message, None);
}

/// As [`listen`], for the events of type `kind` instead of `new_message`.
pub fn listen_to(
    socket: Socket,
    health: Arc<SocketHealth>,
    kind: &'static str,
    on_event: impl Fn(&Value) + Send + 'static,
) {
    listen_for(socket, health, kind, on_event, None);
}

/// As [`listen`]; when `closer` signals, the client closes (1000) and waits for the server's answer.
pub fn listen_until(
    socket: Socket,
    health: Arc<SocketHealth>,
    on_message: impl Fn(&Value) + Send + 'static,
    closer: Option<Closer>,
) {
    listen_for(socket, health, "new_message", on_message, closer);
}

fn listen_for(
    mut socket: Socket,
    health: Arc<SocketHealth>,
    kind: &'static str,
    on_message: impl Fn(&Value) + Send + 'static,
    closer: Option<Closer>,
) {
    tokio::spawn(async move {
        let (mut signal, answers, handshakes) = match closer {
            Some(Closer { signal, answers, handshakes }) => (Some(signal), Some(answers), Some(handshakes)),
            None => (None, None, None),
        };
        let mut closing: Option<Instant> = None;
        let mut clean = false;
        loop {
            let close_now = async {
                let told = match signal.as_mut() {
                    Some(signal) => signal.wait_for(|close| *close).await.is_ok(),
                    None => false,
                };
                if !told {
                    std::future::pending::<()>().await;
                }
            };
            let frame = tokio::select! {
                frame = socket.next() => frame,
                () = close_now, if closing.is_none() => {
                    closing = Some(Instant::now());
                    let bye = CloseFrame { code: CloseCode::Normal, reason: "bye".into() };
                    if socket.close(Some(bye)).await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            match frame {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(event) = serde_json::from_str::<Value>(&text)
                        && event["type"] == kind
                    {
                        on_message(&event["payload"]);
                    }
                }
                Some(Ok(Message::Ping(_))) => {
                    health.pings.fetch_add(1, Ordering::Relaxed);
                }
                Some(Ok(Message::Close(frame))) => {
                    clean = closing.is_some() && frame.is_some_and(|f| f.code == CloseCode::Normal);
                    if let (true, Some(at), Some(answers)) = (clean, closing, &answers) {
                        answers.record(at, at.elapsed());
                    }
                    if !clean || socket.next().await.is_some() {
                        // Frames after the close frame, or a close we did not start.
                        clean = false;
                    }
                    break;
                }
                Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            }
        }
        match (closing, handshakes) {
            (Some(at), Some(handshakes)) if clean => {
                health.clean_closes.fetch_add(1, Ordering::Relaxed);
                handshakes.record(at, at.elapsed());
            }
            (Some(_), Some(handshakes)) => {
                health.unclean_closes.fetch_add(1, Ordering::Relaxed);
                handshakes.error("no close frame echoing 1000");
            }
            _ => {
                health.closed.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
}

/// The load-test index in a message text `lt <i>`.
pub fn index_of(payload: &Value) -> Option<u64> {
    payload["text"].as_str()?.strip_prefix("lt ")?.parse().ok()
}
