//! What the realtime path counts, through the `metrics` facade; the binary installs the
//! Prometheus recorder and serves `/metrics` (see the README's metric table).

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
/// Messages waiting in an actor's mailbox, by `actor`.
pub const MAILBOX_DEPTH: &str = "nosebook_actor_mailbox_depth";

/// An event of `kind` was written to the outbox.
pub fn written(kind: &'static str) {
    counter!(EVENTS_WRITTEN, "type" => kind).increment(1);
}

pub fn socket_opened() {
    counter!(WS_OPENED).increment(1);
    gauge!(WS_CONNECTIONS).increment(1.0);
}

pub fn socket_closed(reason: &'static str) {
    counter!(WS_CLOSED, "reason" => reason).increment(1);
    gauge!(WS_CONNECTIONS).decrement(1.0);
}

/// A message was sent to `actor`'s mailbox…
pub fn queued(actor: &'static str) {
    gauge!(MAILBOX_DEPTH, "actor" => actor).increment(1.0);
}

/// …and taken out of it by the handler.
pub fn taken(actor: &'static str) {
    gauge!(MAILBOX_DEPTH, "actor" => actor).decrement(1.0);
}
