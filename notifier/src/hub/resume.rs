//! Sockets that resume: the cursor each frame carries for them, the frames a socket gets when it
//! opens (`ready`, `resumed` and its replay, `resync_required`), and the wait for this node to read
//! the log far enough to serve it. The log's place and window are kept by [`crate::history`].

use std::cell::OnceCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use nosebook_schema::ids::{SessionId, UserId};
use serde::Serialize;
use tokio::sync::oneshot;

use super::{ConnId, Frame, Hub};
use crate::history::{Replay, with_cursor};
use crate::mailbox::{KickReason, Mailbox, Outbound};
use nosebook_telemetry::metrics;

/// What a socket asked for when it opened (`GET /ws?cursor=…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Nothing: events as they come, the original protocol.
    No,
    /// A new start: a `ready` frame first, with the cursor to resume from if cut before any event.
    Fresh,
    /// Resuming after this cursor: `resumed` and the missed events, or `resync_required`.
    From(String),
}

/// The frame that answers a socket's resume, before any event: `{"type": …, "payload":
/// {"cursor": …}}`, the cursor to resume from next (`null` before this node read anything of a
/// shared log).
#[derive(Debug, Serialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
enum Opening<'a> {
    /// A fresh start.
    Ready { cursor: Option<&'a str> },
    /// The cursor was served: `missed` events follow.
    Resumed { cursor: Option<&'a str>, missed: usize },
    /// The cursor cannot be served here: the client reloads what it shows.
    ResyncRequired { cursor: Option<&'a str> },
}

impl Opening<'_> {
    fn frame(&self) -> Frame {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default().into()
    }
}

/// An event's frame in the two forms sockets get: as the original protocol sends it, and with
/// its cursor for sockets that resume — the second built once, when the first such socket
/// needs it, and shared like the first.
pub(super) struct Variants {
    pub(super) plain: Frame,
    /// `None` for an event with no place to resume from (an ephemeral one).
    cursor: Option<String>,
    cursored: OnceCell<Frame>,
    /// Of a kind the original protocol never sent ([`nosebook_events::Event::resumable_only`]).
    resumable_only: bool,
}

impl Variants {
    pub(super) fn new(plain: Frame, cursor: Option<String>) -> Self {
        let resumable_only = nosebook_events::frame_is_resumable_only(&plain);
        Self { plain, cursor, cursored: OnceCell::new(), resumable_only }
    }

    /// The form a socket gets, if it gets the event at all.
    pub(super) fn for_socket(&self, cursors: bool) -> Option<&Frame> {
        match (&self.cursor, cursors) {
            (Some(cursor), true) => Some(self.cursored.get_or_init(|| with_cursor(&self.plain, cursor))),
            (None, true) => Some(&self.plain),
            (_, false) => (!self.resumable_only).then_some(&self.plain),
        }
    }
}

/// A socket of `user` opened on this node. Answers its id once it is registered: events
/// delivered from then on reach it, after whatever its resume replays (`None`: the hub is going
/// away). Registration waits, at most [`LIVE_WAIT`], until this node has read far enough:
///
/// - on a node that has not read the shared log yet (it is starting, its consumer not yet
///   subscribed), until it has: an event the client causes after its upgrade is then appended
///   after this node started reading, so it reaches the socket;
/// - for a cursor newer than what this node has read (it came from a node ahead of this one,
///   which is behind in reading the log), until this node has read up to it, so the replay can
///   serve it instead of asking for a resync.
#[derive(Message)]
#[rtype(result = "Option<ConnId>")]
pub struct Connect {
    pub user: UserId,
    pub session: SessionId,
    pub mailbox: Arc<Mailbox>,
    pub resume: Resume,
}

/// How long an upgrade waits for its node to read far enough in the log; past it (the broker is
/// away, the node far behind) it is registered anyway: live from where the node is, and a resume
/// it cannot serve is answered `resync_required`.
pub const LIVE_WAIT: Duration = Duration::from_secs(5);

/// A [`Connect`] waiting for the node to read the log up to `until` (or at all).
pub(super) struct Waiting {
    connect: Connect,
    until: Option<i64>,
    deadline: Instant,
    answer: oneshot::Sender<ConnId>,
}

impl Handler<Connect> for Hub {
    type Result = ResponseFuture<Option<ConnId>>;

    fn handle(&mut self, msg: Connect, ctx: &mut Self::Context) -> Self::Result {
        let until = match &msg.resume {
            Resume::From(cursor) => self.history.unread(cursor),
            Resume::No | Resume::Fresh => None,
        };
        if self.live && until.is_none() {
            let id = self.register(msg);
            return Box::pin(async move { Some(id) });
        }
        if matches!(msg.resume, Resume::From(_)) {
            ::metrics::counter!(metrics::WS_RESUMES, "outcome" => "waited").increment(1);
        }
        let (answer, id) = oneshot::channel();
        self.waiting.push(Waiting { connect: msg, until, deadline: Instant::now() + LIVE_WAIT, answer });
        ctx.run_later(LIVE_WAIT, |hub, _| hub.release_waiting());
        Box::pin(async move { id.await.ok() })
    }
}

impl Hub {
    /// Registers a socket: its opening frames (a resume's answer and replay) first, then it is
    /// listed for live events. Done in one step, between two deliveries: every event up to the
    /// history's last is replayed, every later one is delivered live.
    fn register(&mut self, msg: Connect) -> ConnId {
        for frame in self.opening_frames(msg.user, &msg.resume) {
            // The mailbox of a resuming socket has room for a whole replay (`MAX_REPLAY`).
            let _ = msg.mailbox.post(Outbound { frame, span: tracing::Span::none() });
        }
        let cursors = msg.resume != Resume::No;
        if self.closing {
            msg.mailbox.kick(KickReason::Shutdown);
        }
        self.sockets.add(msg.user, msg.session, msg.mailbox, cursors)
    }

    /// Registers the waiting sockets whose wait is over: the node has read far enough, or their
    /// time is up. One whose client went away meanwhile is dropped.
    pub(super) fn release_waiting(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let (now, live, last) = (Instant::now(), self.live, self.history.last());
        let (ready, still): (Vec<Waiting>, Vec<Waiting>) =
            std::mem::take(&mut self.waiting).into_iter().partition(|w| {
                now >= w.deadline || (live && w.until.is_none_or(|until| last.is_some_and(|last| last >= until)))
            });
        self.waiting = still;
        for waiting in ready {
            if waiting.answer.is_closed() {
                continue;
            }
            let id = self.register(waiting.connect);
            let _ = waiting.answer.send(id);
        }
    }

    /// The frames a socket gets before any live event: the answer to its resume, and what it
    /// missed.
    fn opening_frames(&mut self, user: UserId, resume: &Resume) -> Vec<Frame> {
        match resume {
            Resume::No => Vec::new(),
            Resume::Fresh => vec![Opening::Ready { cursor: self.history.current().as_deref() }.frame()],
            Resume::From(cursor) => match self.history.replay(user, cursor, Instant::now()) {
                Replay::Missed(missed) => {
                    ::metrics::counter!(metrics::WS_RESUMES, "outcome" => "resumed").increment(1);
                    ::metrics::counter!(metrics::WS_REPLAYED).increment(missed.len() as u64);
                    let current = self.history.current();
                    let resumed = Opening::Resumed { cursor: current.as_deref(), missed: missed.len() };
                    let mut frames = vec![resumed.frame()];
                    frames.extend(missed);
                    frames
                }
                Replay::ResyncRequired => {
                    ::metrics::counter!(metrics::WS_RESUMES, "outcome" => "resync").increment(1);
                    vec![Opening::ResyncRequired { cursor: self.history.current().as_deref() }.frame()]
                }
            },
        }
    }
}

/// The shared log went on without this node from this offset (see `amqp.rs`).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Restart(pub i64);

impl Handler<Restart> for Hub {
    type Result = ();

    fn handle(&mut self, Restart(offset): Restart, _: &mut Self::Context) {
        self.history.restart_at(offset);
        self.release_waiting();
    }
}

/// The shared log this node reads is the incarnation `epoch` of its name, read from `offset` on
/// (the consumer tells this before the first event it hands over, and again when it finds the
/// log was deleted and created again): cursors name it, and those of another one resync.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Epoch {
    pub log: String,
    pub epoch: String,
    /// Where the new incarnation is read from; `None` when the node has not read anything yet.
    pub from: Option<i64>,
}

impl Handler<Epoch> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Epoch, _: &mut Self::Context) {
        let prefix = Self::cursor_prefix(&msg.log, &msg.epoch);
        if prefix == self.history.log() {
            return;
        }
        tracing::info!(log = %prefix, "reading a new incarnation of the event log");
        match msg.from {
            Some(offset) => self.history.new_epoch(prefix, offset),
            None => self.history.rename(prefix),
        }
        self.release_waiting();
    }
}
