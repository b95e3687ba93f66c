//! Sends, written in batches: group commit.
//!
//! Every send of this node goes to one of a few [`ChatWriter`]s (one per core), chosen by its
//! chat, so the sends of a chat are written by one writer in the order they arrived. A writer
//! writes whatever gathered while its previous write was committing, as one transaction — the
//! chats locked, their members read, every message, each chat's newest-message pointer and one
//! outbox row per event written by one statement, one `COMMIT` (one WAL flush) for the batch:
//! five statements in two round trips (pipelined), however many sends.
//! There is no timer: a lone send meets no write in flight and goes at once; under load the
//! next batch gathers while the current one commits.
//!
//! What holds for every send, batched or not:
//! - **Order.** The batch locks its chats' rows (in id order: two batches never deadlock) before
//!   it reads members and the time, so a chat's `(created_at, seq)` order is its commit order,
//!   across nodes too. Membership changes take the same lock (`core::chats`), so a message goes
//!   to exactly the members it was sent among — no member row is locked per send.
//! - **A refused send fails alone.** The rules of a send ([`crate::send`]) judge each send
//!   against what the batch read under the lock; a refused sender is told so and the rest of
//!   the batch is written. A batch the database refuses as a whole is written again one send
//!   at a time, so a send that poisons it fails alone too.
//! - **Answered after `COMMIT`.** Each sender learns its outcome only once the batch committed;
//!   the batch's events then go to the relay from memory ([`OnCommitted`]), and their outbox
//!   rows are claimed for it, so no relay publishes them a second time.

use std::sync::Arc;

use actix::prelude::*;
use diesel_async::SimpleAsyncConnection;
use futures_util::future::{join, join4};
use nosebook_events::EventKind;
use nosebook_schema::ids::{ChatId, MessageId};
use nosebook_schema::models::{MessageRow, OutboxRow};
use nosebook_schema::queries::{chats, messages, outbox};
use nosebook_schema::time::Clock;
use nosebook_schema::{AsyncPgConnection, DbConn, DbError, DbPool, observe};
use nosebook_telemetry::metrics::{self, Counted};
use nosebook_telemetry::{hop_span, trace_context};
use tokio::sync::oneshot;
use tracing::{Instrument, Span};

use crate::send::{LockedChats, SendMessage, SendRefusal};
use crate::threads::Arbiters;

/// Sends written together at most: bounds one transaction and what one failure can delay.
const MAX_BATCH: usize = 256;

/// The chat writers' name in the mailbox-depth metric.
const MAILBOX: &str = "chats";

/// A send's outcome: the message as stored, a refusal, or the database's failure.
pub type Written = Result<Result<MessageRow, SendRefusal>, DbError>;

impl Message for SendMessage {
    type Result = Written;
}

/// Where a committed batch's events go (the outbox relay, which publishes them from memory).
pub type OnCommitted = Arc<dyn Fn(Vec<OutboxRow>) + Send + Sync>;

/// This node's chat writers.
#[derive(Clone)]
pub struct ChatWriters {
    writers: Arc<[Addr<ChatWriter>]>,
}

impl ChatWriters {
    /// One writer per arbiter of `threads`.
    pub fn start(db: DbPool, clock: Clock, committed: OnCommitted, threads: &Arbiters) -> Self {
        let writers = (0..threads.len().max(1))
            .map(|n| {
                let writer = ChatWriter {
                    db: db.clone(),
                    clock,
                    committed: committed.clone(),
                    queue: Vec::new(),
                    writing: false,
                };
                Arbiters::start(Some(threads), n, writer)
            })
            .collect();
        Self { writers }
    }

    /// Writes the message; answered once it is committed (or refused).
    pub async fn send(&self, send: SendMessage) -> Written {
        // Chat ids are random: their low bits spread the chats evenly over the writers.
        let shard = (send.chat.0.as_u128() % self.writers.len() as u128) as usize;
        match self.writers.get(shard) {
            Some(writer) => writer
                .send(Counted::new(send, MAILBOX))
                .await
                .unwrap_or(Err(DbError::Interrupted("chat writer stopped while sending"))),
            None => Err(DbError::Interrupted("no chat writer")),
        }
    }
}

/// Writes the sends of its share of the chats, a batch at a time.
pub struct ChatWriter {
    db: DbPool,
    clock: Clock,
    committed: OnCommitted,
    /// Sends that arrived while a batch was being written: the next batch.
    queue: Vec<Queued>,
    writing: bool,
}

impl Actor for ChatWriter {
    type Context = Context<Self>;
}

struct Queued {
    send: SendMessage,
    /// The send's hop in its request's trace.
    span: Span,
    answer: oneshot::Sender<Written>,
}

impl Handler<Counted<SendMessage>> for ChatWriter {
    type Result = ResponseFuture<Written>;

    fn handle(&mut self, send: Counted<SendMessage>, ctx: &mut Self::Context) -> Self::Result {
        let send = send.take();
        let span = hop_span!(send.trace.as_deref(), "chat.send", chat = %send.chat);
        let (answer, answered) = oneshot::channel();
        self.queue.push(Queued { send, span, answer });
        ::metrics::gauge!(metrics::SENDS_QUEUED).increment(1.0);
        self.write_next(ctx);
        Box::pin(
            async move { answered.await.unwrap_or(Err(DbError::Interrupted("chat writer stopped before answering"))) },
        )
    }
}

impl ChatWriter {
    /// Starts writing what has gathered, unless a batch is in flight: its end starts the next.
    fn write_next(&mut self, ctx: &mut Context<Self>) {
        if self.writing || self.queue.is_empty() {
            return;
        }
        let batch: Vec<Queued> = self.queue.drain(..self.queue.len().min(MAX_BATCH)).collect();
        ::metrics::gauge!(metrics::SENDS_QUEUED).decrement(batch.len() as f64);
        self.writing = true;
        // A task of its own: once begun, a batch reaches COMMIT and answers its senders even if
        // this actor stops meanwhile.
        let task = actix::spawn(write(self.db.clone(), self.clock, self.committed.clone(), batch));
        ctx.spawn(fut::wrap_future::<_, Self>(task).map(|_, writer, ctx| {
            writer.writing = false;
            writer.write_next(ctx);
        }));
    }
}

/// Writes a batch and answers its senders; a batch the database refused as a whole is written
/// again one send at a time.
async fn write(db: DbPool, clock: Clock, committed: OnCommitted, batch: Vec<Queued>) {
    let size = batch.len();
    let sends: Vec<&SendMessage> = batch.iter().map(|q| &q.send).collect();
    // The batch's statements run in the first traced send's span: a lone send's trace shows
    // its queries; the others' traces show their `chat.send` hop and their event.
    let span = batch.iter().map(|q| q.span.clone()).find(|s| !s.is_disabled()).unwrap_or_else(Span::none);
    let traces: Vec<Option<String>> = batch.iter().map(|q| trace_context::of(&q.span)).collect();
    let (outcome, statements) =
        observe::count_statements(write_batch(&db, clock, &sends, &traces).instrument(span)).await;
    match outcome {
        Ok((results, events)) => {
            ::metrics::counter!(metrics::SENDS_WRITTEN).increment(size as u64);
            ::metrics::counter!(metrics::SEND_BATCHES).increment(1);
            ::metrics::counter!(metrics::SEND_STATEMENTS).increment(u64::from(statements));
            if !events.is_empty() {
                committed(events);
            }
            for (queued, result) in batch.into_iter().zip(results) {
                let _ = queued.answer.send(Ok(result));
            }
        }
        Err(e) if size > 1 && !e.is_connection_lost() && !e.is_unavailable() => {
            tracing::warn!(error = %e, size, "a batch of sends was refused as a whole; writing them one at a time");
            for queued in batch {
                Box::pin(write(db.clone(), clock, committed.clone(), vec![queued])).await;
            }
        }
        Err(e) => {
            let e = Arc::new(e);
            for queued in batch {
                let _ = queued.answer.send(Err(DbError::Shared(e.clone())));
            }
        }
    }
}

/// One transaction for the batch: lock its chats, read their members (and the chats of the
/// messages replied to), then one statement writes every accepted message, the chats'
/// pointers and the events. Answers each send's outcome, in order, and the events written.
async fn write_batch(
    db: &DbPool,
    clock: Clock,
    sends: &[&SendMessage],
    traces: &[Option<String>],
) -> Result<(Vec<Result<MessageRow, SendRefusal>>, Vec<OutboxRow>), DbError> {
    let mut chat_ids: Vec<ChatId> = sends.iter().map(|s| s.chat).collect();
    chat_ids.sort_unstable();
    chat_ids.dedup();
    let replied: Vec<MessageId> = sends.iter().filter_map(|s| s.reply_to).collect();
    let conn = db.get().await?;
    let written = pipelined(&conn, clock, sends, traces, &chat_ids, &replied).await;
    if written.is_err() {
        // End the transaction whatever state it reached; a connection that cannot is not
        // handed out again.
        let mut shared: &AsyncPgConnection = &conn;
        if shared.batch_execute("ROLLBACK").await.is_err() {
            drop(DbConn::take(conn));
        }
    }
    written
}

/// The batch's transaction in two round trips. `BEGIN`, the lock, the members and the replied-to
/// messages go out together, and PostgreSQL runs them in the order sent: the members are read
/// once the lock is granted, by a statement of its own (so they are as of then, not as of the
/// statement that waited). Then the write and `COMMIT` go out together (a `COMMIT` after a
/// failed write ends the transaction as a rollback).
async fn pipelined(
    conn: &AsyncPgConnection,
    clock: Clock,
    sends: &[&SendMessage],
    traces: &[Option<String>],
    chat_ids: &[ChatId],
    replied: &[MessageId],
) -> Result<(Vec<Result<MessageRow, SendRefusal>>, Vec<OutboxRow>), DbError> {
    let (mut begin, mut lock, mut read, mut replies) = (conn, conn, conn, conn);
    // futures' `join`, which polls in the order given (tokio's rotates), so the statements are
    // sent in this order; and `join`, not `try_join`: every answer is read before the next
    // statement goes out.
    let (begun, locked, members, reply_chats) = join4(
        begin.batch_execute("BEGIN"),
        chats::lock(&mut lock, chat_ids),
        chats::members_of(&mut read, chat_ids),
        async { if replied.is_empty() { Ok(Vec::new()) } else { messages::chats_of(&mut replies, replied).await } },
    )
    .await;
    begun?;
    locked?;
    let locked = LockedChats { members: members?, reply_chats: reply_chats?.into_iter().collect() };

    let mut outcomes = Vec::with_capacity(sends.len());
    let mut written = Vec::new();
    let mut events = Vec::new();
    for (send, trace) in sends.iter().zip(traces) {
        let recipients = match send.check(&locked) {
            Ok(recipients) => recipients,
            Err(refusal) => {
                outcomes.push(Err(refusal));
                continue;
            }
        };
        // Read after the lock, message by message: arrival order is time order.
        let message = send.message(clock.now());
        events.push(outbox::Pending {
            recipients: recipients.to_vec(),
            frame: send.event(&message).frame(),
            trace_context: trace.clone(),
        });
        written.push(message.clone());
        outcomes.push(Ok(message));
    }
    let (mut write, mut commit) = (conn, conn);
    if written.is_empty() {
        commit.batch_execute("COMMIT").await?;
        return Ok((outcomes, Vec::new()));
    }
    let (ids, committed) =
        join(messages::write_batch(&mut write, &written, &events), commit.batch_execute("COMMIT")).await;
    let ids = ids?;
    committed?;
    metrics::written_many(EventKind::NewMessage.name(), events.len() as u64);
    let events = events.into_iter().zip(ids).map(|(event, id)| event.written_as(id)).collect();
    Ok((outcomes, events))
}
