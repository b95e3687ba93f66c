//! Publishes the outbox, two ways:
//! - **From memory.** A writer that committed and claimed rows (the chat writers' batches) hands
//!   them over ([`OutboxRelay::committed`]): published at once, then marked, without reading
//!   them back.
//! - **From the table.** Other events are woken in: by this node's handlers after their commit,
//!   and by every node's commits through `LISTEN outbox`; a slow poll is the safety net. Rows are
//!   taken in id order (`FOR UPDATE SKIP LOCKED`, so relays on several nodes share the work),
//!   skipping claimed ones until the claim runs out, and marked published only once the
//!   transport has them — if the transport is down, rows wait and go out when it returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::Addr;
use nosebook_schema::ids::UserId;
use nosebook_schema::models::OutboxRow;
use nosebook_schema::queries::outbox;
use nosebook_schema::time::Clock;
use nosebook_schema::{AsyncConnection, DbError, DbPool};
use tokio::sync::{Notify, mpsc};

use crate::hub::{self, Hub};
use crate::transport::{Transport, TransportError};
use nosebook_telemetry::metrics;

/// Rows per transaction.
const BATCH: i64 = 500;
/// With nothing announced, look anyway this often: the safety net for claims that ran out and
/// for notices missed while the listener reconnected (every commit of unclaimed rows, on any
/// node, wakes the relay through `LISTEN outbox`).
const POLL: Duration = Duration::from_secs(5);
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
        Box::pin(std::future::ready(hub::deliver_rows(&self.0, batch)))
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

/// Committed batches waiting to be published from memory, at most. Past it a writer's events
/// are left to the outbox: they go out once their claim runs out.
const DIRECT_QUEUE: usize = 1024;

#[derive(Clone)]
pub struct OutboxRelay {
    db: DbPool,
    clock: Clock,
    transport: Arc<dyn Transport>,
    wake: Arc<Notify>,
    direct: mpsc::Sender<Vec<OutboxRow>>,
    /// The receiving end, taken by the one task that runs the relay.
    direct_rx: Arc<Mutex<Option<mpsc::Receiver<Vec<OutboxRow>>>>>,
}

impl OutboxRelay {
    /// `wake` is shared with whoever commits events on this node (see [`OutboxRelay::wake`]).
    pub fn new(db: DbPool, clock: Clock, transport: Arc<dyn Transport>, wake: Arc<Notify>) -> Self {
        let (direct, direct_rx) = mpsc::channel(DIRECT_QUEUE);
        Self { db, clock, transport, wake, direct, direct_rx: Arc::new(Mutex::new(Some(direct_rx))) }
    }

    /// Handlers call this after committing events, so they go out without waiting for a poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Where a writer hands the rows it just committed and claimed: published from memory,
    /// without reading them back.
    pub fn committed(&self) -> impl Fn(Vec<OutboxRow>) + Send + Sync + 'static {
        let direct = self.direct.clone();
        move |rows| {
            if let Err(e) = direct.try_send(rows) {
                tracing::warn!(error = %e, "outbox relay behind; these events go out when their claim runs out");
            }
        }
    }

    /// Publishes an event nobody stores (someone typing): straight to the transport, once,
    /// without the outbox — lost if the broker is away, as such an event may be. Its id is
    /// negative, never an outbox row's, and random, so that nodes do not collide in the hubs'
    /// memory of delivered ids.
    pub fn publish_ephemeral(&self, recipients: Vec<UserId>, frame: String) {
        if recipients.is_empty() {
            return;
        }
        let random = uuid::Uuid::new_v4().as_u64_pair().0 >> 1;
        let id = -1 - i64::try_from(random).unwrap_or(0);
        let row = OutboxRow { id, recipients, frame, trace_context: nosebook_telemetry::trace_context::current() };
        let transport = self.transport.clone();
        actix::spawn(async move {
            match tokio::time::timeout(PUBLISH_TIMEOUT, transport.publish(std::slice::from_ref(&row))).await {
                Ok(Ok(())) => ::metrics::counter!(metrics::EVENTS_PUBLISHED).increment(1),
                Ok(Err(e)) => tracing::debug!(error = %e, "an ephemeral event was not published"),
                Err(_) => tracing::debug!("an ephemeral event timed out"),
            }
        });
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
        let direct = self.direct_rx.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(mut direct) = direct else {
            tracing::error!("outbox relay started twice; the second one does nothing");
            return;
        };
        actix::spawn(listen(self.db.clone(), self.wake.clone()));
        let (marks, marked) = mpsc::channel(DIRECT_QUEUE);
        actix::spawn(mark(self.db.clone(), self.clock, marked));
        // The outbox may hold rows from before this start.
        self.wake();
        loop {
            let drained = tokio::select! {
                biased;
                Some(mut rows) = direct.recv() => {
                    while let Ok(more) = direct.try_recv() {
                        rows.extend(more);
                    }
                    self.publish_direct(rows, &marks).await;
                    Ok(())
                }
                () = self.wake.notified() => self.drain().await,
                () = tokio::time::sleep(POLL) => self.drain().await,
            };
            if let Err(e) = drained {
                tracing::warn!(error = %e, "outbox relay: publishing failed; events wait");
                tokio::time::sleep(BACKOFF).await;
            }
        }
    }

    /// Rows a writer committed and claimed: published as they are, then marked by the marker
    /// task, so the next publish does not wait for the mark. Rows the transport refused are
    /// released to the table, where the relay retries them as it retries any other (with the
    /// broker away, they go out once it is back); rows that could not even be released go out
    /// when their claim runs out. The hub drops a duplicate.
    async fn publish_direct(&self, rows: Vec<OutboxRow>, marks: &mpsc::Sender<Vec<i64>>) {
        let published = tokio::time::timeout(PUBLISH_TIMEOUT, self.transport.publish(&rows))
            .await
            .map_err(|_| TransportError::Unavailable("publishing timed out".into()))
            .and_then(|published| published);
        match published {
            Ok(()) => {
                ::metrics::counter!(metrics::EVENTS_PUBLISHED).increment(rows.len() as u64);
                if marks.try_send(rows.iter().map(|r| r.id).collect()).is_err() {
                    tracing::warn!(events = rows.len(), "outbox relay: marks behind; these events may go out twice");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, events = rows.len(), "outbox relay: events from memory not published; the outbox has them");
                let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                let released = async {
                    let mut conn = self.db.get().await?;
                    outbox::release(&mut conn, &ids).await?;
                    Ok::<_, DbError>(())
                };
                if let Err(e) = released.await {
                    tracing::warn!(error = %e, "outbox relay: claim not released; the events go out when it runs out");
                }
                self.wake();
            }
        }
    }

    /// Publishes until no unpublished, unclaimed row is left.
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

/// Marks published what the relay published from memory: whatever gathered while the last mark
/// was being written, in one statement.
async fn mark(db: DbPool, clock: Clock, mut published: mpsc::Receiver<Vec<i64>>) {
    while let Some(mut ids) = published.recv().await {
        while let Ok(more) = published.try_recv() {
            ids.extend(more);
        }
        let marked = async {
            let mut conn = db.get().await?;
            outbox::mark_published(&mut conn, &ids, clock.now()).await?;
            Ok::<_, DbError>(())
        };
        if let Err(e) = marked.await {
            tracing::warn!(error = %e, events = ids.len(), "outbox relay: not marked published; they go out again when their claim runs out");
        }
    }
}

/// Wakes the relay whenever any node commits unclaimed rows (`LISTEN outbox`), on a connection
/// of its own; reconnects after a failure, and wakes the relay then too, for what was written
/// while it was not listening.
async fn listen(db: DbPool, wake: Arc<Notify>) {
    use futures_util::StreamExt;
    loop {
        let listened = async {
            let mut conn = db.dedicated().await?;
            outbox::listen(&mut conn).await?;
            wake.notify_one();
            let mut notices = std::pin::pin!(conn.notifications_stream());
            while let Some(notice) = notices.next().await {
                notice?;
                wake.notify_one();
            }
            Ok::<_, DbError>(())
        };
        if let Err(e) = listened.await {
            tracing::warn!(error = %e, "outbox relay: not listening for other nodes' events; polling meanwhile");
        }
        tokio::time::sleep(BACKOFF * 5).await;
    }
}
