//! Nosebook's realtime path, from a committed change to a socket:
//!
//! ```text
//! handler ─(same transaction)─► outbox ─► OutboxRelay ─► Transport ─► Hub ─► connection ─► socket
//!                                          (relay.rs)   in-process     (hub.rs) (connection.rs)
//!                                                       or RabbitMQ
//! ```
//!
//! - [`relay::OutboxRelay`] publishes outbox rows in id order and marks them sent only after the
//!   transport took them: at least once.
//! - [`hub::Hub`] knows which connections each user has on this node, drops duplicate events by
//!   outbox id, and hands each frame to every connection of its recipient without waiting; it
//!   keeps the recent log ([`history`]) so that a socket that was cut resumes where it stopped.
//!   What reaches it says what it is ([`hub::Deliver`]: an event, an ephemeral one, a control
//!   message, a place in the log, the log's past).
//! - [`transport`] is what the relay and the hub ask of whatever carries events between nodes
//!   (`amqp.rs` implements it for RabbitMQ; `relay::InProcess` for a single node).
//! - [`connection`] serves each socket in a task of its own on the bare TCP stream, once the HTTP
//!   layer answered the upgrade: a bounded outbound queue, one heartbeat timer, inbound frames
//!   checked ([`frame_guard`]) and discarded, and one unregistration on every exit path.

pub mod amqp;
pub mod connection;
pub mod frame_guard;
pub mod history;
pub mod hub;
pub mod mailbox;
pub mod relay;
pub mod transport;

pub use connection::{Handoff, register, serve};
pub use hub::{Deliver, Hub};
pub use relay::OutboxRelay;
