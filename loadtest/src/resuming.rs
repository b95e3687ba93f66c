//! A socket that behaves as the web app does when its node goes away: it keeps the cursor of the
//! last event, and after a close (1012 from a node that stops) or a cut (a node that crashed) it
//! reconnects to another node and resumes (`GET /ws?cursor=…`). It reconnects at once, where the
//! web app waits a moment (up to 0.5 s after a 1012, 1–2 s after a cut: `web/assets/app.js`), so
//! that every socket of a crashed node arrives together — the worst case for the nodes. It counts
//! what happened to it and times how long it was away; it does not drop duplicates, so that the
//! scenario can count them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::client::{Api, encode};

/// Counters of every resuming socket of a run.
#[derive(Default)]
pub struct ResumeStats {
    /// Closes with 1012 (`service restart`): the node was stopping.
    pub told_to_go: AtomicU64,
    /// Connections that ended without a close frame (the node died) or with another one.
    pub cut: AtomicU64,
    /// Connection attempts that failed (the node was down): the socket tries the next one.
    pub refused: AtomicU64,
    pub resumed: AtomicU64,
    /// Events replayed to resumed sockets.
    pub replayed: AtomicU64,
    /// `resync_required`: the node could not serve the cursor (the run fails: a real client
    /// would reload).
    pub resyncs: AtomicU64,
    /// Every trip back: when the socket learned its connection had ended (the close frame, or the
    /// cut), and how long until the next connection answered its resume (`resumed`, or
    /// `resync_required`) — the time a person's page goes without live events. Kept whole so
    /// that a scenario can split them by what caused them.
    away: Mutex<Vec<(Instant, Duration)>>,
    /// The same trips, split where the time went until the next node answered the upgrade.
    upgraded: Mutex<Vec<(Instant, Reconnect)>>,
}

impl ResumeStats {
    pub fn json(&self) -> Value {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "told_to_go_1012": n(&self.told_to_go),
            "cut": n(&self.cut),
            "refused_connects": n(&self.refused),
            "resumed": n(&self.resumed),
            "replayed_events": n(&self.replayed),
            "resync_required": n(&self.resyncs),
        })
    }

    /// Every trip back so far: (connection ended, time to `resumed`).
    pub fn away(&self) -> Vec<(Instant, Duration)> {
        self.away.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Every trip back so far: (connection ended, how its reconnection went).
    pub fn upgraded(&self) -> Vec<(Instant, Reconnect)> {
        self.upgraded.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn reconnected(&self, ended: Instant, tried: Instant, connected: Instant) {
        let trip = Reconnect {
            tried: tried.saturating_duration_since(ended),
            connected: connected.saturating_duration_since(ended),
            answered: ended.elapsed(),
        };
        self.upgraded.lock().unwrap_or_else(|e| e.into_inner()).push((ended, trip));
    }

    fn back(&self, ended: Instant) {
        self.away.lock().unwrap_or_else(|e| e.into_inner()).push((ended, ended.elapsed()));
    }
}

/// A socket's way back, each time counted from when its connection ended: when the connection
/// that succeeded was tried, when its TCP connection was up, and when the upgrade was answered
/// (`101`). Tells the load tool's own delays, the accept queue and the server's handling apart.
#[derive(Debug, Clone, Copy)]
pub struct Reconnect {
    pub tried: Duration,
    pub connected: Duration,
    pub answered: Duration,
}

/// Longest pause between two tries when no node answers.
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// Keeps a socket for `session` open over `nodes` (starting at `first`) until `stop`, handing
/// every `new_message` payload to `on_message`. Returns once the first connection is open (or
/// failed: the error).
pub async fn spawn(
    nodes: Arc<Vec<Api>>,
    first: usize,
    session: String,
    stats: Arc<ResumeStats>,
    mut stop: watch::Receiver<bool>,
    on_message: impl Fn(&Value) + Send + 'static,
) -> Result<(), String> {
    let mut node = first % nodes.len();
    let mut socket = nodes[node].socket_at("/ws?cursor=", &session, None).await?;
    tokio::spawn(async move {
        let mut cursor: Option<String> = None;
        let mut hops = 0;
        // When the last connection ended, until the next one answers the resume: a socket cut
        // again on its way back is timed from the first end.
        let mut ended_at: Option<Instant> = None;
        loop {
            // Read until the socket ends or the run stops.
            let ended = loop {
                let frame = tokio::select! {
                    frame = socket.next() => Some(frame),
                    stopped = stop.wait_for(|stop| *stop) => {
                        drop(stopped);
                        None
                    }
                };
                let Some(frame) = frame else {
                    let _ = socket.close(None).await;
                    return;
                };
                match frame {
                    Some(Ok(Message::Text(text))) => {
                        let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                        if let Some(c) = frame["cursor"].as_str().or(frame["payload"]["cursor"].as_str()) {
                            cursor = Some(c.to_owned());
                        }
                        match frame["type"].as_str() {
                            Some("new_message") => on_message(&frame["payload"]),
                            Some("resumed") => {
                                stats.resumed.fetch_add(1, Ordering::Relaxed);
                                let missed = frame["payload"]["missed"].as_u64().unwrap_or(0);
                                stats.replayed.fetch_add(missed, Ordering::Relaxed);
                            }
                            Some("resync_required") => {
                                stats.resyncs.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => {}
                        }
                        // The first status frame of a connection answers its resume (`ready`
                        // when the socket had no cursor yet).
                        if matches!(frame["type"].as_str(), Some("resumed" | "resync_required" | "ready"))
                            && let Some(ended) = ended_at.take()
                        {
                            stats.back(ended);
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        break frame.is_some_and(|f| f.code == CloseCode::Restart);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break false,
                }
            };
            ended_at.get_or_insert_with(Instant::now);
            let counter = if ended { &stats.told_to_go } else { &stats.cut };
            counter.fetch_add(1, Ordering::Relaxed);
            // Back at once, to another node — spread over the others, as a load balancer spreads
            // a stopping node's clients; a node that is down is skipped.
            let path = format!("/ws?cursor={}", cursor.as_deref().map(encode).unwrap_or_default());
            let mut backoff = Duration::from_millis(10);
            hops += 1;
            socket = loop {
                if *stop.borrow() {
                    return;
                }
                node = (node + 1 + (first + hops) % nodes.len().saturating_sub(1).max(1)) % nodes.len();
                let tried = Instant::now();
                match nodes[node].socket_timed(&path, &session, None).await {
                    Ok((socket, connected)) => {
                        if let Some(ended) = ended_at {
                            stats.reconnected(ended, tried, connected);
                        }
                        break socket;
                    }
                    Err(_) => {
                        stats.refused.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                }
            };
        }
    });
    Ok(())
}
