//! What the hub and the relay need from whatever carries events between nodes, so that neither
//! depends on the RabbitMQ code (`amqp.rs`) and it depends on them only to deliver: publishing a
//! batch of outbox rows, and asking for a user's events to be routed to this node.

use std::future::Future;
use std::pin::Pin;

use nosebook_schema::ids::UserId;
use nosebook_schema::models::OutboxRow;
use nosebook_telemetry::hop_span;
use tokio::sync::{mpsc, oneshot};

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

/// Routing changes a notifier node asks of its queue.
#[derive(Debug)]
pub enum RouteOp {
    /// The user's first socket here opened: route their events to this node. Answered when the
    /// binding is in place (or RabbitMQ is unreachable, in which case it is made on reconnect).
    Bind(UserId, oneshot::Sender<()>),
    /// The user's last socket here closed.
    Unbind(UserId),
}

pub type RouteControl = mpsc::UnboundedSender<RouteOp>;
