//! One actor per WebSocket connection.

use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError, Session};
use nosebook_schema::ids::{SessionId, UserId};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::frame_guard::{self, FrameGuard};
use crate::history::MAX_REPLAY;
use crate::hub::{ConnId, Connect, Disconnect, Hub, Kick, Outbound, Resume};
use nosebook_telemetry::metrics;

/// The server pings this often (docs/API.md §6.2)…
pub const PING_INTERVAL: Duration = Duration::from_secs(54);
/// …and drops a client whose last pong is older than this,
pub const PONG_TIMEOUT: Duration = Duration::from_secs(60);
/// …checked this often.
const PONG_CHECK: Duration = Duration::from_secs(5);
/// Each write must finish within this.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(10);
/// Largest inbound frame; a larger one closes the connection with 1009, decided from its header.
/// The same bound holds for a message reassembled from fragments.
pub const MAX_INBOUND_FRAME: usize = 512;
/// Frames waiting for a slow client before it is cut off.
pub const OUTBOUND_QUEUE: usize = 256;

pub struct WsConnection {
    user: UserId,
    id: ConnId,
    session: Session,
    hub: Addr<Hub>,
    last_pong: Instant,
    /// Why it ends, for the close metric; set by the first exit path taken.
    ending: Option<&'static str>,
    /// A close frame is being sent; the actor stops once it is.
    closing: bool,
}

impl WsConnection {
    /// Ends without a close frame (the connection is already gone or broken) — unless a close
    /// frame is on its way, which then ends the actor itself.
    fn end(&mut self, ctx: &mut Context<Self>, why: &'static str) {
        if self.closing {
            return;
        }
        self.ending.get_or_insert(why);
        ctx.stop();
    }

    /// Sends a close frame, then stops. Stopping first would drop the session with the frame
    /// unsent: the client would see the connection vanish (1006) instead of the reason.
    fn close(&mut self, ctx: &mut Context<Self>, reason: Option<CloseReason>, why: &'static str) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.ending.get_or_insert(why);
        let session = self.session.clone();
        ctx.wait(
            fut::wrap_future::<_, Self>(async move {
                let _ = tokio::time::timeout(WRITE_DEADLINE, session.close(reason)).await;
            })
            .map(|(), _, ctx| ctx.stop()),
        );
    }
}

/// A close frame's code with its short reason text.
fn reason(code: CloseCode, text: &str) -> CloseReason {
    CloseReason { code, description: Some(text.into()) }
}

impl Actor for WsConnection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(PONG_CHECK, |conn, ctx| {
            if conn.last_pong.elapsed() > PONG_TIMEOUT {
                tracing::debug!(user = %conn.user, "no pong within the timeout; dropping the socket");
                // The original sent an empty close frame here; a code tells the client why.
                conn.close(ctx, Some(reason(CloseCode::Policy, "no pong")), "pong_timeout");
            }
        });
        ctx.run_interval(PING_INTERVAL, |conn, ctx| {
            let mut session = conn.session.clone();
            ctx.spawn(fut::wrap_future::<_, Self>(async move { session.ping(b"").await }).map(|res, conn, ctx| {
                if res.is_err() {
                    conn.end(ctx, "error");
                }
            }));
        });
    }

    /// Every way out passes here: the hub forgets the connection exactly once.
    fn stopped(&mut self, _: &mut Self::Context) {
        self.hub.do_send(Disconnect { user: self.user, conn: self.id });
        metrics::socket_closed(self.ending.unwrap_or("shutdown"));
    }
}

/// Outbound: frames the hub queued for this socket, written one at a time.
impl StreamHandler<Outbound> for WsConnection {
    fn handle(&mut self, Outbound { frame, span }: Outbound, ctx: &mut Self::Context) {
        let mut session = self.session.clone();
        // `wait`: the next frame is not taken before this one is written, so the bounded queue
        // fills up behind a slow client instead of memory.
        ctx.wait(
            fut::wrap_future::<_, Self>(tracing::Instrument::instrument(
                async move { matches!(tokio::time::timeout(WRITE_DEADLINE, session.text(frame)).await, Ok(Ok(()))) },
                span,
            ))
            .map(|written, conn, ctx| {
                if !written {
                    conn.end(ctx, "error");
                }
            }),
        );
    }

    /// The hub dropped this socket's queue (it was cut off).
    fn finished(&mut self, ctx: &mut Self::Context) {
        self.end(ctx, "slow_consumer");
    }
}

/// Inbound: only control frames matter; data frames are read and discarded, never relayed.
impl StreamHandler<Result<AggregatedMessage, ProtocolError>> for WsConnection {
    fn handle(&mut self, msg: Result<AggregatedMessage, ProtocolError>, ctx: &mut Self::Context) {
        match msg {
            Ok(AggregatedMessage::Ping(bytes)) => {
                self.last_pong = Instant::now();
                let mut session = self.session.clone();
                ctx.spawn(fut::wrap_future(async move {
                    let _ = session.pong(&bytes).await;
                }));
            }
            Ok(AggregatedMessage::Pong(_)) => self.last_pong = Instant::now(),
            Ok(AggregatedMessage::Text(_) | AggregatedMessage::Binary(_)) => {}
            // Echo the client's code (RFC 6455 §5.5.1); a close without one is answered without one.
            Ok(AggregatedMessage::Close(reason)) => {
                let echo = reason.map(|r| CloseReason { code: r.code, description: None });
                self.close(ctx, echo, "client_closed");
            }
            Err(ProtocolError::Io(e)) if let Some(refusal) = frame_guard::refusal(&e) => {
                self.close(ctx, Some(reason(refusal.code.into(), refusal.reason)), refusal.label());
            }
            // The decoder's own limit on a message put together from fragments.
            Err(ProtocolError::Overflow) => self.close(ctx, Some(CloseCode::Size.into()), "too_big"),
            // The connection broke under the decoder: nobody is left to read a close frame.
            Err(ProtocolError::Io(e)) => {
                tracing::debug!(error = %e, "websocket connection failed");
                self.end(ctx, "error");
            }
            // Anything else the decoder refuses is a breach of the protocol the guard let by.
            Err(e) => {
                tracing::debug!(error = %e, "websocket protocol error");
                self.close(ctx, Some(reason(CloseCode::Protocol, "protocol error")), "protocol_error");
            }
        }
    }

    /// The client went away.
    fn finished(&mut self, ctx: &mut Self::Context) {
        self.end(ctx, "client_closed");
    }
}

impl Handler<Kick> for WsConnection {
    type Result = ();

    fn handle(&mut self, Kick(why): Kick, ctx: &mut Self::Context) {
        self.close(ctx, Some(reason(why.close_code(), why.description())), why.label());
    }
}

/// Upgrades an authenticated request to a socket of `user`. The connection is registered with
/// the hub before the 101 answer leaves, so an event caused right after the upgrade is not lost
/// (docs/API.md §6.1); with `resume`, what it missed is queued first.
pub async fn upgrade(
    req: &HttpRequest,
    body: web::Payload,
    user: UserId,
    session_id: SessionId,
    hub: &Addr<Hub>,
    resume: Resume,
) -> Result<HttpResponse, actix_web::Error> {
    let body = guarded(req, body).await?;
    let (response, session, inbound) = actix_ws::handle(req, body)?;
    // Room for a whole replay and its status frame on top of the usual queue (the channel only
    // allocates what is queued).
    let capacity = if resume == Resume::No { OUTBOUND_QUEUE } else { OUTBOUND_QUEUE + MAX_REPLAY + 1 };
    let (queue, outbound) = mpsc::channel::<Outbound>(capacity);
    let inbound =
        inbound.max_frame_size(MAX_INBOUND_FRAME).aggregate_continuations().max_continuation_size(MAX_INBOUND_FRAME);
    let hub = hub.clone();
    let ctx = Context::<WsConnection>::new();
    let kick = ctx.address().recipient();
    let id = hub
        .send(Connect { user, session: session_id, queue, kick, resume })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| actix_web::error::ErrorServiceUnavailable("hub unavailable"))?;
    let actor = WsConnection { user, id, session, hub, last_pong: Instant::now(), ending: None, closing: false };
    metrics::socket_opened();
    let mut ctx = ctx;
    ctx.add_stream(ReceiverStream::new(outbound));
    ctx.add_stream(inbound);
    ctx.run(actor);
    Ok(response)
}

/// The socket's inbound bytes behind a [`FrameGuard`], so no frame over the limit is buffered.
async fn guarded(req: &HttpRequest, body: web::Payload) -> Result<web::Payload, actix_web::Error> {
    type Boxed =
        std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>>>>;
    let guarded: Boxed = Box::pin(FrameGuard::new(body.into_inner(), MAX_INBOUND_FRAME));
    web::Payload::from_request(req, &mut actix_web::dev::Payload::from(guarded)).await
}
