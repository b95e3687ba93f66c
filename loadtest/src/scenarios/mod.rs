//! The scenarios, and what they share: preparing sockets and reading their events.

pub mod chats;
pub mod connections;
pub mod fanout;
pub mod messaging;
pub mod mixed;
pub mod pages;
pub mod read;
pub mod soak;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{StreamExt, stream};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Api, Socket};
use crate::seed::Account;

/// How long after the load ends events may still arrive before they count as lost.
pub const GRACE: Duration = Duration::from_secs(10);

/// Opens one socket per account, a few at a time.
pub async fn open_sockets(api: &Api, accounts: &[Account]) -> anyhow::Result<Vec<Socket>> {
    let opened: Vec<Result<Socket, String>> = stream::iter(accounts.iter().map(|a| {
        let api = api.clone();
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
}

/// Reads a socket until it closes (answering pings), handing every `new_message` payload to
/// `on_message`.
pub fn listen(mut socket: Socket, health: Arc<SocketHealth>, on_message: impl Fn(&Value) + Send + 'static) {
    tokio::spawn(async move {
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(Message::Text(text)) => {
                    if let Ok(event) = serde_json::from_str::<Value>(&text)
                        && event["type"] == "new_message"
                    {
                        on_message(&event["payload"]);
                    }
                }
                Ok(Message::Ping(_)) => {
                    health.pings.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        health.closed.fetch_add(1, Ordering::Relaxed);
    });
}

/// The load-test index in a message text `lt <i>`.
pub fn index_of(payload: &Value) -> Option<u64> {
    payload["text"].as_str()?.strip_prefix("lt ")?.parse().ok()
}
