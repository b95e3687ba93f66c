//! What the hub and the relay need from whatever carries events between nodes, so that neither
//! depends on the RabbitMQ code (`amqp.rs`) and it depends on them only to deliver: publishing a
//! batch of outbox rows, and what each row is ([`Carried`]).

use std::future::Future;
use std::pin::Pin;

use nosebook_events::CONTROL_RECIPIENT;
use nosebook_schema::ids::UserId;
use nosebook_schema::models::OutboxRow;
use nosebook_telemetry::hop_span;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("transport unavailable: {0}")]
    Unavailable(String),
}

/// Where published events go: the local hub, or RabbitMQ for every node.
pub trait Transport: Send + Sync + 'static {
    /// Succeeds only when every row of the batch is accepted (for RabbitMQ: confirmed).
    fn publish<'a>(
        &'a self,
        batch: &'a [OutboxRow],
    ) -> Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send + 'a>>;
}

/// The span of one row's publish, continuing the trace of the request that wrote it.
pub fn publish_span(row: &OutboxRow) -> tracing::Span {
    hop_span!(row.trace_context.as_deref(), "outbox.publish", event_id = row.id, recipients = row.recipients.len())
}

/// What a published row is. The rows say it by their id and recipients, which every transport
/// carries as they are (RabbitMQ: the message id and the `to` header), so that a node reading the
/// log tells them apart without another field; [`Carried::of`] is the one place that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carried {
    /// An event of the outbox, for its recipients.
    Event,
    /// An event nobody stores (someone typing): its id is negative ([`ephemeral_id`]), never an
    /// outbox row's.
    Ephemeral,
    /// A message for every node: queued for [`CONTROL_RECIPIENT`] alone.
    Control,
    /// For nobody: never published.
    Nobody,
}

impl Carried {
    pub fn of(id: i64, recipients: &[UserId]) -> Self {
        if recipients.is_empty() {
            Self::Nobody
        } else if recipients == [CONTROL_RECIPIENT] {
            Self::Control
        } else if id < 0 {
            Self::Ephemeral
        } else {
            Self::Event
        }
    }
}

/// The id of an ephemeral event: negative, so never an outbox row's, and random, so that the
/// events of different nodes do not collide in the hubs' memory of delivered ids.
pub fn ephemeral_id() -> i64 {
    let random = uuid::Uuid::new_v4().as_u64_pair().0 >> 1;
    -1 - i64::try_from(random).unwrap_or(0)
}
