//! Publishes the outbox: takes unpublished rows in id order (`FOR UPDATE SKIP LOCKED`, so relays
//! on several nodes share the work), hands them to the transport, and marks them published only
//! once the transport has them — if the transport is down, rows wait and go out when it returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use nosebook_schema::models::OutboxRow;
use nosebook_schema::queries::outbox;
use nosebook_schema::time::Clock;
use nosebook_schema::{AsyncConnection, DbError, DbPool};
use tokio::sync::Notify;

use crate::hub::{self, Deliver, Hub};
use crate::transport::{Transport, TransportError, publish_span};
use nosebook_telemetry::metrics::{self, Counted};
use nosebook_telemetry::trace_context;

/// Rows per transaction.
const BATCH: i64 = 500;
/// With nothing announced, look anyway this often (rows written by other nodes).
const POLL: Duration = Duration::from_millis(200);
/// Longest a batch may take to be accepted by the transport.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failure, wait this long before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

/// A single node without a broker: events go straight to this node's hub.
pub struct InProcess(pub Addr<Hub>);

impl Transport for InProcess {
    fn publish<'a>(
        &'a self,
        batch: &'a [OutboxRow],
    ) -> Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send + 'a>> {
        Box::pin(async move {
            for row in batch {
                let span = publish_span(row);
                let trace = trace_context::of(&span);
                let deliver = Deliver {
                    event_id: row.id,
                    recipients: row.recipients.clone(),
                    frame: row.frame.as_str().into(),
                    trace,
                };
                self.0
                    .send(Counted::new(deliver, hub::MAILBOX))
                    .await
                    .map_err(|e| TransportError::Unavailable(e.to_string()))?;
            }
            Ok(())
        })
    }
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl From<diesel::result::Error> for RelayError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

#[derive(Clone)]
pub struct OutboxRelay {
    db: DbPool,
    clock: Clock,
    transport: Arc<dyn Transport>,
    wake: Arc<Notify>,
}

impl OutboxRelay {
    /// `wake` is shared with whoever commits events on this node (see [`OutboxRelay::wake`]).
    pub fn new(db: DbPool, clock: Clock, transport: Arc<dyn Transport>, wake: Arc<Notify>) -> Self {
        Self { db, clock, transport, wake }
    }

    /// Handlers call this after committing events, so they go out without waiting for a poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until the process ends, on this thread.
    pub fn spawn(self) {
        actix::spawn(self.run());
    }

    /// Runs until the process ends, on `arbiter` (this thread when `None`).
    pub fn spawn_on(self, arbiter: Option<&actix::ArbiterHandle>) {
        match arbiter {
            Some(arbiter) => {
                arbiter.spawn(self.run());
            }
            None => self.spawn(),
        }
    }

    async fn run(self) {
        loop {
            match self.drain().await {
                Ok(()) => {
                    let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay: publishing failed; events wait");
                    tokio::time::sleep(BACKOFF).await;
                }
            }
        }
    }

    /// Publishes until no unpublished row is left.
    async fn drain(&self) -> Result<(), RelayError> {
        while self.publish_batch().await? > 0 {}
        Ok(())
    }

    /// One batch in one transaction: rows stay unpublished unless the transport took them all.
    async fn publish_batch(&self) -> Result<usize, RelayError> {
        let mut conn = self.db.get().await?;
        let now = self.clock.now();
        let transport = self.transport.clone();
        conn.transaction(async |conn| {
            let batch = outbox::take(conn, BATCH).await?;
            if batch.is_empty() {
                return Ok(0);
            }
            // The rows stay locked meanwhile: a broker that hangs must not hold them forever.
            tokio::time::timeout(PUBLISH_TIMEOUT, transport.publish(&batch))
                .await
                .map_err(|_| TransportError::Unavailable("publishing timed out".into()))??;
            let ids: Vec<i64> = batch.iter().map(|r| r.id).collect();
            outbox::mark_published(conn, &ids, now).await?;
            ::metrics::counter!(metrics::EVENTS_PUBLISHED).increment(ids.len() as u64);
            Ok::<_, RelayError>(batch.len())
        })
        .await
    }
}
