//! One task per WebSocket connection, on the bare TCP stream.
//!
//! The HTTP layer answers the upgrade (authentication, limits, the 101) and then hands the
//! socket over: from there no HTTP machinery stays with it (actix-http keeps an 8 KiB read and
//! an 8 KiB write buffer per connection for its whole life, more than a socket needs; BENCHMARKS.md,
//! "100,000 sockets"). What a socket keeps is what it needs: its [`Mailbox`] (the
//! hub's frames and verdict, empty and unallocated when idle), one timer for its heartbeat, and
//! a read buffer only while a frame is half-read. It is an actor in all but name — its own
//! state, its mailbox, one message at a time — without the framework's per-actor context.

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use actix_codec::{Decoder, Encoder};
use actix_http::ws::{self, CloseCode, CloseReason, Frame, Message};
use bytes::{Bytes, BytesMut};
use nosebook_schema::ids::{SessionId, UserId};
use nosebook_telemetry::metrics;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use tracing::Instrument;

use crate::frame_guard::{FrameGuard, Refusal};
use crate::history::MAX_REPLAY;
use crate::hub::{ConnId, Connect, Disconnect, Hub, Resume};
use crate::mailbox::{Mailbox, Next, Outbound};

/// The server pings this often (docs/API.md §6.2)…
pub const PING_INTERVAL: Duration = Duration::from_secs(54);
/// …and drops a client whose last pong is older than this…
pub const PONG_TIMEOUT: Duration = Duration::from_secs(60);
/// …and that has had at least this long to answer the last ping. Under load a ping may leave
/// late and its pong be read late (a storm of closing clients on the same cores leaves the
/// others seconds behind), and a client that did answer must not be dropped for it.
pub const PONG_GRACE: Duration = Duration::from_secs(10);
/// Each write must finish within this.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// Largest inbound frame; a larger one closes the connection with 1009, decided from its header.
/// The same bound holds for a message reassembled from fragments.
pub const MAX_INBOUND_FRAME: usize = 512;
/// Frames waiting for a slow client before it is cut off.
pub const OUTBOUND_QUEUE: usize = 256;
/// Bytes read from the socket at a time. Clients send little (pings, pongs, a close); a read
/// buffer this size lives in every socket's task.
const READ_CHUNK: usize = 256;

/// A socket registered with the hub, waiting for its 101 to be written. Dropped without being
/// served (the client went away first), it unregisters all the same.
pub struct Handoff {
    user: UserId,
    id: ConnId,
    hub: Addr<Hub>,
    mailbox: Arc<Mailbox>,
}

impl Drop for Handoff {
    /// Every way out passes here: the hub forgets the connection exactly once.
    fn drop(&mut self) {
        self.mailbox.close();
        self.hub.do_send(Disconnect { user: self.user, conn: self.id });
    }
}

/// Registers a socket of `user` with the hub before the 101 answer leaves, so an event caused
/// right after the upgrade is not lost (docs/API.md §6.1); with `resume`, what it missed is
/// queued first. `None`: the hub is gone (the node is stopping).
pub async fn register(hub: &Addr<Hub>, user: UserId, session: SessionId, resume: Resume) -> Option<Handoff> {
    // Room for a whole replay and its status frame on top of the usual queue (the mailbox only
    // allocates what is queued).
    let capacity = if resume == Resume::No { OUTBOUND_QUEUE } else { OUTBOUND_QUEUE + MAX_REPLAY + 1 };
    let mailbox = Arc::new(Mailbox::new(capacity));
    let id = hub.send(Connect { user, session, mailbox: mailbox.clone(), resume }).await.ok().flatten()?;
    Some(Handoff { user, id, hub: hub.clone(), mailbox })
}

/// Serves the socket until it ends. `io` is the connection after the 101 was written, `early`
/// whatever the client sent after its upgrade request that was already read.
pub async fn serve<T>(io: T, early: BytesMut, handoff: Handoff)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    metrics::socket_opened();
    let mut socket = Socket {
        io,
        guard: FrameGuard::new(MAX_INBOUND_FRAME),
        decoder: ws::Codec::new().max_size(MAX_INBOUND_FRAME),
        inbound: BytesMut::new(),
        last_pong: Instant::now(),
    };
    let why = socket.run(early, &handoff.mailbox).await;
    tracing::debug!(user = %handoff.user, why, "websocket ended");
    metrics::socket_closed(why);
}

struct Socket<T> {
    io: T,
    guard: FrameGuard,
    decoder: ws::Codec,
    /// Bytes of a frame not complete yet; empty (and unallocated) between frames.
    inbound: BytesMut,
    last_pong: Instant,
}

/// What the client's bytes asked for.
enum Inbound {
    Continue,
    /// Close with this frame; the label says why, for the close metric.
    Close(Option<CloseReason>, &'static str),
}

impl<T: AsyncRead + AsyncWrite + Unpin> Socket<T> {
    /// Runs until the socket ends; answers why (the close metric's `reason`).
    async fn run(&mut self, early: BytesMut, mailbox: &Mailbox) -> &'static str {
        if !early.is_empty()
            && let Some(why) = self.receive(&early).await
        {
            return why;
        }
        let mut next_ping = Instant::now() + PING_INTERVAL;
        // When the last ping left (at first: the upgrade).
        let mut pinged = Instant::now();
        let pong_deadline = |last_pong: Instant, pinged: Instant| (last_pong + PONG_TIMEOUT).max(pinged + PONG_GRACE);
        // One timer per socket, at whichever comes first: the next ping, or the pong deadline.
        let heartbeat = tokio::time::sleep_until(next_ping);
        tokio::pin!(heartbeat);
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            tokio::select! {
                // What the client sent goes first: a pong that arrived must count before the
                // deadline is judged. (A client cannot starve the rest: reads spend the task's
                // cooperative budget, and then the other branches get their turn.)
                biased;
                read = self.io.read(&mut chunk) => match read {
                    Ok(0) => return "client_closed",
                    Ok(n) => {
                        if let Some(why) = self.receive(&chunk[..n]).await {
                            return why;
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "websocket connection failed");
                        return "error";
                    }
                },
                next = mailbox.next() => match next {
                    Next::Frame(Outbound { frame, span }) => {
                        if self.write(Message::Text(frame)).instrument(span).await.is_err() {
                            return "error";
                        }
                    }
                    Next::Kick(why) => {
                        return self.close(Some(reason(why.close_code(), why.description())), why.label()).await;
                    }
                },
                () = &mut heartbeat => {
                    let now = Instant::now();
                    if now >= pong_deadline(self.last_pong, pinged) {
                        tracing::debug!("no pong within the timeout; dropping the socket");
                        // The original sent an empty close frame here; a code tells the client why.
                        return self.close(Some(reason(CloseCode::Policy, "no pong")), "pong_timeout").await;
                    }
                    if now >= next_ping {
                        if self.write(Message::Ping(Bytes::new())).await.is_err() {
                            return "error";
                        }
                        pinged = now;
                        next_ping = now + PING_INTERVAL;
                    }
                    heartbeat.as_mut().reset(next_ping.min(pong_deadline(self.last_pong, pinged)));
                }
            }
        }
    }

    /// Acts on bytes from the client; `Some(why)` once the socket has ended (closed as they
    /// asked, or the connection broke on the way).
    async fn receive(&mut self, bytes: &[u8]) -> Option<&'static str> {
        match self.take(bytes).await {
            Ok(Inbound::Continue) => None,
            Ok(Inbound::Close(reason, why)) => Some(self.close(reason, why).await),
            Err(why) => Some(why),
        }
    }

    /// Takes bytes from the client: the guard first, then whole frames. Only control frames
    /// matter; data frames are read and discarded, never relayed. `Err`: the connection broke.
    async fn take(&mut self, bytes: &[u8]) -> Result<Inbound, &'static str> {
        let (pass, refusal) = self.guard.check(bytes);
        self.inbound.extend_from_slice(&bytes[..pass]);
        loop {
            match self.decoder.decode(&mut self.inbound) {
                Ok(Some(Frame::Ping(payload))) => {
                    self.last_pong = Instant::now();
                    self.write(Message::Pong(payload)).await.map_err(|()| "error")?;
                }
                Ok(Some(Frame::Pong(_))) => self.last_pong = Instant::now(),
                Ok(Some(Frame::Text(_) | Frame::Binary(_) | Frame::Continuation(_))) => {}
                // Echo the client's code (RFC 6455 §5.5.1); a close without one is answered without one.
                Ok(Some(Frame::Close(reason))) => {
                    let echo = reason.map(|r| CloseReason { code: r.code, description: None });
                    return Ok(Inbound::Close(echo, "client_closed"));
                }
                Ok(None) => break,
                // The decoder's own limit; the guard refuses such a frame before it gets here.
                Err(ws::ProtocolError::Overflow) => return Ok(Inbound::Close(Some(CloseCode::Size.into()), "too_big")),
                // Anything else the decoder refuses is a breach of the protocol the guard let by.
                Err(e) => {
                    tracing::debug!(error = %e, "websocket protocol error");
                    let reason = reason(CloseCode::Protocol, "protocol error");
                    return Ok(Inbound::Close(Some(reason), "protocol_error"));
                }
            }
        }
        // An idle socket holds no read buffer.
        if self.inbound.is_empty() {
            self.inbound = BytesMut::new();
        }
        Ok(match refusal {
            Some(refusal) => Inbound::Close(Some(refused(refusal)), refusal.label()),
            None => Inbound::Continue,
        })
    }

    /// Writes one frame within the write deadline.
    async fn write(&mut self, message: Message) -> Result<(), ()> {
        let mut bytes = BytesMut::new();
        self.decoder.encode(message, &mut bytes).map_err(|_| ())?;
        let write = async {
            self.io.write_all(&bytes).await?;
            self.io.flush().await
        };
        match tokio::time::timeout(WRITE_DEADLINE, write).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    /// Sends a close frame and ends the connection. Answers `why`.
    async fn close(&mut self, reason: Option<CloseReason>, why: &'static str) -> &'static str {
        if self.write(Message::Close(reason)).await.is_ok() {
            let _ = tokio::time::timeout(WRITE_DEADLINE, self.io.shutdown()).await;
        }
        why
    }
}

/// A close frame's code with its short reason text.
fn reason(code: CloseCode, text: &str) -> CloseReason {
    CloseReason { code, description: Some(text.into()) }
}

fn refused(refusal: Refusal) -> CloseReason {
    reason(refusal.code.into(), refusal.reason)
}
