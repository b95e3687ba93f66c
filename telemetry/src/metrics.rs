//! What the realtime path counts, through the `metrics` facade; the binary installs the
//! Prometheus recorder and serves `/metrics` (see docs/operating.md, "What each metric means").

use metrics::{counter, gauge};

/// Sockets open on this node.
pub const WS_CONNECTIONS: &str = "nosebook_ws_connections";
pub const WS_OPENED: &str = "nosebook_ws_connections_opened_total";
/// By `reason`: client_closed, pong_timeout, slow_consumer, signed_out, too_big, protocol_error,
/// bad_utf8, error, shutdown.
pub const WS_CLOSED: &str = "nosebook_ws_connections_closed_total";
/// Events (outbox rows) written, by event `type`: one per event, however many its recipients.
pub const EVENTS_WRITTEN: &str = "nosebook_events_written_total";
/// Outbox rows the relay handed to the transport and the transport confirmed.
pub const EVENTS_PUBLISHED: &str = "nosebook_events_published_total";
/// Events this node's hub received (before dropping duplicates).
pub const EVENTS_CONSUMED: &str = "nosebook_events_consumed_total";
/// Frames queued to a socket.
pub const EVENTS_DELIVERED: &str = "nosebook_events_delivered_total";
/// Sockets opened with a cursor, by `outcome`: `resumed` (replayed what they missed),
/// `resync` (answered `resync_required`), and `waited` (held until this node read up to the
/// cursor, then resumed or resynced: counted under that outcome too).
pub const WS_RESUMES: &str = "nosebook_ws_resumes_total";
/// Events replayed to resuming sockets.
pub const WS_REPLAYED: &str = "nosebook_ws_replayed_events_total";
/// Events this node's hub dropped as published twice, by where it found the first: `live`
/// (delivered already) or `history` (kept for resuming already).
pub const EVENTS_DUPLICATES: &str = "nosebook_events_duplicates_dropped_total";
/// How far behind the broker this node reads the event log: the age of the newest event it
/// read when it read it (publisher's clock against this node's).
pub const EVENT_LOG_LAG: &str = "nosebook_event_log_lag_seconds";
/// Events waiting in the outbox behind a failed publish: the relay publishes them, in commit
/// order, before anything newer (0 or 1: this node's relay is catching up).
pub const RELAY_BEHIND: &str = "nosebook_outbox_relay_behind";
/// Messages the chat writers committed, the batches they were written in, and the statements
/// those batches sent (pool checkout and `COMMIT` included): sends per batch and statements per
/// send, the group commit's two figures.
pub const SENDS_WRITTEN: &str = "nosebook_sends_written_total";
pub const SEND_BATCHES: &str = "nosebook_send_batches_total";
pub const SEND_STATEMENTS: &str = "nosebook_send_statements_total";
/// Sends waiting for the next batch (a batch is being written meanwhile).
pub const SENDS_QUEUED: &str = "nosebook_sends_queued";
/// Sessions a node loaded from the database (none of its actors held them) and the queries they
/// were loaded in: a reconnect storm's sessions gather into a few.
pub const SESSIONS_LOADED: &str = "nosebook_sessions_loaded_total";
pub const SESSION_LOADS: &str = "nosebook_session_loads_total";
/// Activity writes of one session each (a flush of a session actor): a load writes its whole
/// batch's first activity in one statement and is not counted here.
pub const SESSION_WRITES: &str = "nosebook_session_writes_total";
/// Sessions waiting for the next load (one is being read meanwhile).
pub const SESSION_LOADS_WAITING: &str = "nosebook_session_loads_waiting";
/// Messages waiting in an actor's mailbox, by `actor`.
pub const MAILBOX_DEPTH: &str = "nosebook_actor_mailbox_depth";

/// An event of `kind` was written to the outbox.
pub fn written(kind: &'static str) {
    written_many(kind, 1);
}

/// `n` events of `kind` were written to the outbox at once.
pub fn written_many(kind: &'static str, n: u64) {
    counter!(EVENTS_WRITTEN, "type" => kind).increment(n);
}

pub fn socket_opened() {
    counter!(WS_OPENED).increment(1);
    gauge!(WS_CONNECTIONS).increment(1.0);
}

pub fn socket_closed(reason: &'static str) {
    counter!(WS_CLOSED, "reason" => reason).increment(1);
    gauge!(WS_CONNECTIONS).decrement(1.0);
}

/// A message counted in its actor's mailbox depth ([`MAILBOX_DEPTH`]) from the moment it is
/// wrapped until its handler [takes](Counted::take) it — or until it is dropped unhandled because
/// its actor stopped (counts kept by hand at each end missed that case and stayed one too high).
/// Senders wrap, handlers take: the count lives in this one type.
pub struct Counted<M> {
    message: M,
    _place: Place,
}

impl<M> Counted<M> {
    /// `message`, bound for the mailbox named `actor` in the metric.
    pub fn new(message: M, actor: &'static str) -> Self {
        gauge!(MAILBOX_DEPTH, "actor" => actor).increment(1.0);
        Self { message, _place: Place(actor) }
    }

    /// The message, out of the mailbox.
    pub fn take(self) -> M {
        self.message
    }
}

impl<M: actix::Message> actix::Message for Counted<M>
where
    M::Result: 'static,
{
    type Result = M::Result;
}

/// One message's place in a mailbox: leaves the count when dropped, however that happens.
struct Place(&'static str);

impl Drop for Place {
    fn drop(&mut self) {
        gauge!(MAILBOX_DEPTH, "actor" => self.0).decrement(1.0);
    }
}
