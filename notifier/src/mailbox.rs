//! A socket's mailbox: the frames the hub queued for it, and the hub's verdict on it.
//!
//! The hub fills it without waiting, the socket's task empties it. It is bounded (a full mailbox
//! means the client cannot keep up: the hub cuts it off) and holds no allocation while empty,
//! where a channel keeps a preallocated block per socket, idle or not (BENCHMARKS.md,
//! "100,000 sockets").

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use actix_http::ws::CloseCode;
use tokio::sync::Notify;

/// An event's frame, shared by every socket it goes to (a reference count, not a copy).
pub type Frame = bytestring::ByteString;

/// A frame queued for one socket, with the span its write belongs to (disabled when untraced).
#[derive(Debug)]
pub struct Outbound {
    pub frame: Frame,
    pub span: tracing::Span,
}

impl std::ops::Deref for Outbound {
    type Target = str;

    fn deref(&self) -> &str {
        &self.frame
    }
}

/// Why the hub closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Its outbound queue is full: it cannot keep up.
    SlowConsumer,
    /// Its session ended (logout on any node): the next person at that computer must not see
    /// the user's events.
    SignedOut,
    /// This node is shutting down: the client should reconnect, to another node if it can.
    Shutdown,
}

/// The close code for "your session ended": reconnecting with it is pointless, sign in again.
pub const CLOSE_SIGNED_OUT: u16 = 4001;

impl KickReason {
    /// The `reason` label of the close metric.
    pub fn label(self) -> &'static str {
        match self {
            Self::SlowConsumer => "slow_consumer",
            Self::SignedOut => "signed_out",
            Self::Shutdown => "shutdown",
        }
    }

    /// The code of the close frame the client gets.
    pub fn close_code(self) -> CloseCode {
        match self {
            Self::SlowConsumer => CloseCode::Again,
            Self::SignedOut => CloseCode::Other(CLOSE_SIGNED_OUT),
            // 1012 "service restart" (RFC 6455 registry): come back, to this node or another.
            Self::Shutdown => CloseCode::Restart,
        }
    }

    /// The close frame's reason text.
    pub fn description(self) -> &'static str {
        match self {
            Self::SlowConsumer => "slow consumer",
            Self::SignedOut => "signed out",
            Self::Shutdown => "service restart",
        }
    }
}

pub struct Mailbox {
    inbox: Mutex<Inbox>,
    bell: Notify,
    capacity: usize,
}

#[derive(Default)]
struct Inbox {
    frames: VecDeque<Outbound>,
    /// The first verdict given is the one that counts.
    kick: Option<KickReason>,
    /// The socket is gone: nothing more is taken.
    closed: bool,
}

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `capacity` frames are waiting already.
    Full,
    /// The socket has ended.
    Closed,
}

/// What the socket takes next.
#[derive(Debug)]
pub enum Next {
    /// The hub says the socket must close: it goes before frames still waiting (a slow
    /// consumer's mailbox is full).
    Kick(KickReason),
    Frame(Outbound),
}

impl Mailbox {
    pub fn new(capacity: usize) -> Self {
        Self { inbox: Mutex::new(Inbox::default()), bell: Notify::new(), capacity }
    }

    /// A panic while the lock was held cannot leave the inbox half-changed (every change is
    /// one call on it): the poison is ignored.
    fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a frame for the socket.
    pub fn post(&self, frame: Outbound) -> Result<(), Refused> {
        {
            let mut inbox = self.inbox();
            if inbox.closed {
                return Err(Refused::Closed);
            }
            if inbox.frames.len() >= self.capacity {
                return Err(Refused::Full);
            }
            inbox.frames.push_back(frame);
        }
        // Stored as a permit when the socket is not waiting: nothing posted is missed.
        self.bell.notify_one();
        Ok(())
    }

    /// Tells the socket to close.
    pub fn kick(&self, why: KickReason) {
        self.inbox().kick.get_or_insert(why);
        self.bell.notify_one();
    }

    /// The verdict given, if any.
    pub fn kicked(&self) -> Option<KickReason> {
        self.inbox().kick
    }

    /// The socket has ended: what waits is dropped and nothing more is taken.
    pub fn close(&self) {
        let mut inbox = self.inbox();
        inbox.closed = true;
        inbox.frames = VecDeque::new();
    }

    /// What the socket takes next, without waiting.
    pub fn try_next(&self) -> Option<Next> {
        let mut inbox = self.inbox();
        if let Some(why) = inbox.kick {
            return Some(Next::Kick(why));
        }
        let frame = inbox.frames.pop_front()?;
        if inbox.frames.is_empty() {
            // An idle socket keeps no queue: a burst's room goes back.
            inbox.frames = VecDeque::new();
        }
        Some(Next::Frame(frame))
    }

    /// What the socket takes next. Cancel-safe: nothing is taken unless it is returned.
    pub async fn next(&self) -> Next {
        loop {
            if let Some(next) = self.try_next() {
                return next;
            }
            self.bell.notified().await;
        }
    }
}
