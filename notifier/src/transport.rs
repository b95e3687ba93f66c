//! What the hub and the relay need from whatever carries events between nodes, so that neither
//! depends on the RabbitMQ code (`amqp.rs`) and it depends on them only to deliver: publishing a
//! batch of outbox rows.

use std::future::Future;
use std::pin::Pin;

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
