//! Publishes the outbox, two ways:
//! - **From memory.** A writer that committed and claimed rows (the chat writers' batches) hands
//!   them over ([`OutboxRelay::committed`]): published at once, then marked, without reading
//!   them back.
//! - **From the table.** Other events are woken in: by this node's handlers after their commit,
//!   and by every node's commits through `LISTEN outbox`; a slow poll is the safety net. Rows are
//!   taken in id order, by one relay at a time (a transaction-scoped advisory lock: two relays
//!   publishing batches side by side could interleave them), skipping claimed ones until the
//!   claim runs out, and marked published only once the transport has them.
//!
//! **Commit order.** A relay publishes what its node committed in the order it was committed,
//! also across a broker outage. When a publish fails, the relay is *behind*: rows that failed
//! and every row committed after them go to the table (their claims released), and nothing is
//! published from memory until the table is drained, in id order, by a relay that found it
//! empty afterwards. So the backlog goes out first, as soon as the broker is back (tried every
//! [`RETRY`]), and what is sent after the outage waits behind it instead of overtaking it. Rows
//! the handlers queued in the table (woken before a writer's batch arrives) are published
//! before that batch too.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::Addr;
use futures_util::FutureExt;
use nosebook_schema::ids::UserId;
use nosebook_schema::models::OutboxRow;
use nosebook_schema::queries::outbox;
use nosebook_schema::time::Clock;
use nosebook_schema::{AsyncConnection, DbError, DbPool};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::hub::{self, Hub};
use crate::transport::{Transport, TransportError, ephemeral_id};
use nosebook_telemetry::metrics;

/// Rows per transaction.
const BATCH: i64 = 500;
/// With nothing announced, look anyway this often: the safety net for claims that ran out and
/// for notices missed while the listener reconnected (every commit of unclaimed rows, on any
/// node, wakes the relay through `LISTEN outbox`).
const POLL: Duration = Duration::from_secs(5);
/// Longest a batch may take to be accepted by the transport.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(10);
/// While behind (a publish failed), try the table again this often: the backlog goes out this
/// soon after the broker returns. A refused connection costs the broker next to nothing.
const RETRY: Duration = Duration::from_millis(200);

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

/// What reaches the relay's loop from this node, in the order it was sent.
enum Direct {
    /// Rows a writer committed and claimed, to publish from memory.
    Rows(Vec<OutboxRow>),
    /// The node is stopping: answered once every row sent before it has been handled.
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct OutboxRelay {
    db: DbPool,
    clock: Clock,
    transport: Arc<dyn Transport>,
    wake: Arc<Notify>,
    direct: mpsc::Sender<Direct>,
    /// The receiving end, taken by the one task that runs the relay.
    direct_rx: Arc<Mutex<Option<mpsc::Receiver<Direct>>>>,
}

impl OutboxRelay {
    /// `wake` is shared with whoever commits events on this node (see [`OutboxRelay::wake`]).
    pub fn new(db: DbPool, clock: Clock, transport: Arc<dyn Transport>, wake: Arc<Notify>) -> Self {
        let (direct, direct_rx) = mpsc::channel(DIRECT_QUEUE);
        Self { db, clock, transport, wake, direct, direct_rx: Arc::new(Mutex::new(Some(direct_rx))) }
    }

    /// Waits until every row this node handed over before the call has been published from memory
    /// (or, the broker failing, left to the outbox): a stopping node calls it once its last
    /// request is answered, so that it does not exit holding claims that keep its last events
    /// from every other relay until they run out.
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.direct.send(Direct::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
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
            if let Err(e) = direct.try_send(Direct::Rows(rows)) {
                tracing::warn!(error = %e, "outbox relay behind; these events go out when their claim runs out");
            }
        }
    }

    /// Publishes an event nobody stores (someone typing): straight to the transport, once,
    /// without the outbox — lost if the broker is away, as such an event may be. Its id says so
    /// ([`ephemeral_id`]).
    pub fn publish_ephemeral(&self, recipients: Vec<UserId>, frame: String) {
        if recipients.is_empty() {
            return;
        }
        let row = OutboxRow {
            id: ephemeral_id(),
            recipients,
            frame,
            trace_context: nosebook_telemetry::trace_context::current(),
        };
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
        let mut behind = Behind::default();
        ::metrics::gauge!(metrics::RELAY_BEHIND).set(0.0);
        // The outbox may hold rows from before this start.
        self.wake();
        loop {
            tokio::select! {
                biased;
                Some(first) = direct.recv() => {
                    let (mut rows, mut flushes) = (Vec::new(), Vec::new());
                    let mut next = Some(first);
                    while let Some(item) = next {
                        match item {
                            Direct::Rows(more) => rows.extend(more),
                            Direct::Flush(done) => flushes.push(done),
                        }
                        next = direct.try_recv().ok();
                    }
                    // Rows the handlers committed before this batch go first.
                    if !behind.is_behind() && self.wake.notified().now_or_never().is_some() {
                        self.drain_or_fall_behind(&mut behind).await;
                    }
                    if rows.is_empty() {
                        // Only flushes: nothing to publish.
                    } else if behind.is_behind() {
                        behind.to_release.extend(rows.iter().map(|r| r.id));
                    } else if let Err(e) = self.publish_direct(&rows, &marks).await {
                        tracing::warn!(error = %e, events = rows.len(), "outbox relay: publishing failed; events wait in the outbox, in order");
                        behind.fall(rows.iter().map(|r| r.id));
                    }
                    for done in flushes {
                        let _ = done.send(());
                    }
                }
                // While behind, the catching up below drains anyway.
                () = self.wake.notified() => {
                    if !behind.is_behind() {
                        self.drain_or_fall_behind(&mut behind).await;
                    }
                }
                () = tokio::time::sleep_until(behind.next_attempt().unwrap_or_else(|| Instant::now() + POLL)) => {
                    if !behind.is_behind() {
                        self.drain_or_fall_behind(&mut behind).await;
                    }
                }
            }
            if behind.next_attempt().is_some_and(|at| at <= Instant::now()) {
                self.catch_up(&mut behind).await;
            }
        }
    }

    /// Drains the table; a failure leaves the relay behind.
    async fn drain_or_fall_behind(&self, behind: &mut Behind) {
        if let Err(e) = self.drain().await {
            tracing::warn!(error = %e, "outbox relay: publishing failed; events wait in the outbox, in order");
            behind.fall(std::iter::empty());
        }
    }

    /// One attempt to catch up: the rows held back go to the table, and the table is drained.
    /// Only a drain that ends on an empty table (under the lock every drain takes) ends the
    /// backlog: what was released before it has been published by then, by this relay or
    /// another.
    async fn catch_up(&self, behind: &mut Behind) {
        behind.attempted();
        if !behind.to_release.is_empty() {
            let released = async {
                let mut conn = self.db.get().await?;
                outbox::release(&mut conn, &behind.to_release).await?;
                Ok::<_, DbError>(())
            };
            match released.await {
                Ok(()) => behind.to_release.clear(),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay: claims not released yet; trying again");
                    return;
                }
            }
        }
        match self.drain().await {
            Ok(()) => behind.catch_up(),
            Err(e) => tracing::debug!(error = %e, "outbox relay: still behind"),
        }
    }

    /// Rows a writer committed and claimed: published as they are, then marked by the marker
    /// task, so the next publish does not wait for the mark. On failure the caller holds them
    /// back for the table (see [`Behind`]); the hub drops a duplicate if the broker had them.
    async fn publish_direct(&self, rows: &[OutboxRow], marks: &mpsc::Sender<Vec<i64>>) -> Result<(), TransportError> {
        tokio::time::timeout(PUBLISH_TIMEOUT, self.transport.publish(rows))
            .await
            .map_err(|_| TransportError::Unavailable("publishing timed out".into()))??;
        ::metrics::counter!(metrics::EVENTS_PUBLISHED).increment(rows.len() as u64);
        if marks.try_send(rows.iter().map(|r| r.id).collect()).is_err() {
            tracing::warn!(events = rows.len(), "outbox relay: marks behind; these events may go out twice");
        }
        Ok(())
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
            // One relay drains at a time: the others wait for the lock and go on in id order.
            outbox::lock_drain(conn).await?;
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

/// Whether the relay is behind a failed publish, and the rows it holds back meanwhile.
#[derive(Default)]
struct Behind {
    since: Option<Instant>,
    /// When to try catching up next: every [`RETRY`], however many rows arrive meanwhile.
    next: Option<Instant>,
    /// Rows committed (and claimed) on this node that go to the table before the next drain.
    to_release: Vec<i64>,
}

impl Behind {
    fn is_behind(&self) -> bool {
        self.since.is_some()
    }

    fn next_attempt(&self) -> Option<Instant> {
        self.next
    }

    fn attempted(&mut self) {
        self.next = self.since.map(|_| Instant::now() + RETRY);
    }

    /// A publish failed: `ids` and everything after them go through the table.
    fn fall(&mut self, ids: impl Iterator<Item = i64>) {
        if self.since.is_none() {
            ::metrics::gauge!(metrics::RELAY_BEHIND).set(1.0);
            self.since = Some(Instant::now());
            self.next = Some(Instant::now() + RETRY);
        }
        self.to_release.extend(ids);
    }

    fn catch_up(&mut self) {
        self.next = None;
        if let Some(since) = self.since.take() {
            ::metrics::gauge!(metrics::RELAY_BEHIND).set(0.0);
            tracing::info!(behind_for = ?since.elapsed(), "outbox relay: the backlog is out");
        }
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
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
