//! Chats as actors: one [`ChatActor`] per active chat, found through the [`ChatRegistry`].
//!
//! A chat actor takes one send at a time, so on this node messages of a chat are committed in
//! the order they were received; the chat row is locked for each send, so the same holds across
//! nodes, and the time of a message is read after the lock: `(created_at, id)` order is commit
//! order. It keeps the member list it last read under that lock, and writes the message, the
//! chat's newest-message pointer and one `new_message` event per member in one transaction.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix::prelude::*;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use nosebook_events::{Event, wire};
use nosebook_telemetry::metrics::Counted;

use crate::threads::Arbiters;
use nosebook_schema::ids::{ChatId, MessageId, UserId};
use nosebook_schema::models::MessageRow;
use nosebook_schema::queries::{chats, messages};
use nosebook_schema::schema::chats as chats_table;
use nosebook_schema::time::Clock;
use nosebook_schema::{AsyncConnection, DbError, DbPool};
use nosebook_telemetry::{hop_span, trace_context};
use tracing::Instrument;

/// A chat actor idle this long is stopped; the next send starts it again. Its state is read
/// afresh under the row lock on every send, so a restart costs only the actor itself: the bound
/// keeps memory to the chats active in the last minute (README, "Memory").
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a send was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefusal {
    /// The author is not a member (or the chat does not exist).
    NotMember,
    /// `replyTo` is not a message of this chat.
    BadReply,
}

#[derive(Message)]
#[rtype(result = "Result<Result<MessageRow, SendRefusal>, DbError>")]
pub struct SendMessage {
    pub chat: ChatId,
    pub author: UserId,
    pub text: String,
    pub reply_to: Option<MessageId>,
    /// The author as members are shown them in the `new_message` event.
    pub author_shown_as: wire::User,
    /// The sender's request's `traceparent`: the send and its event join that trace.
    pub trace: Option<String>,
}

/// The chat actors' name in the mailbox-depth metric.
const MAILBOX: &str = "chats";

pub struct ChatRegistry {
    db: DbPool,
    clock: Clock,
    /// The running chat actors and when each was last handed a send; idle ones are stopped by
    /// the sweep (see [`IDLE_TIMEOUT`]).
    chats: HashMap<ChatId, (Addr<ChatActor>, Instant)>,
    /// Where chat actors run (`None`: on the registry's own thread).
    threads: Option<Arbiters>,
    started: usize,
}

impl ChatRegistry {
    pub fn new(db: DbPool, clock: Clock) -> Self {
        Self { db, clock, chats: HashMap::new(), threads: None, started: 0 }
    }

    /// Starts chat actors over these arbiters instead of the registry's thread.
    pub fn spread_over(mut self, threads: Arbiters) -> Self {
        self.threads = Some(threads);
        self
    }
}

impl Actor for ChatRegistry {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The registry stops idle actors itself: its Stop is queued behind every send it handed
        // the actor before, so no send ever meets a stopped actor.
        ctx.run_interval(IDLE_TIMEOUT / 4, |registry, _| {
            registry.chats.retain(|_, (addr, last_used)| {
                let idle = last_used.elapsed() >= IDLE_TIMEOUT;
                if idle {
                    addr.do_send(Stop);
                }
                !idle && addr.connected()
            });
        });
    }
}

impl Handler<SendMessage> for ChatRegistry {
    type Result = ResponseFuture<Result<Result<MessageRow, SendRefusal>, DbError>>;

    fn handle(&mut self, msg: SendMessage, _: &mut Self::Context) -> Self::Result {
        let now = Instant::now();
        let addr = match self.chats.get_mut(&msg.chat).filter(|(a, _)| a.connected()) {
            Some((addr, last_used)) => {
                *last_used = now;
                addr.clone()
            }
            None => {
                let actor = ChatActor { chat: msg.chat, db: self.db.clone(), clock: self.clock, members: Vec::new() };
                self.started += 1;
                let addr = Arbiters::start(self.threads.as_ref(), self.started, actor);
                self.chats.insert(msg.chat, (addr.clone(), now));
                addr
            }
        };
        // Queued now, inside this handler, so that it is ahead of any Stop the sweep sends later.
        let sent = addr.send(Counted::new(msg, MAILBOX));
        Box::pin(async move { sent.await.unwrap_or(Err(DbError::Interrupted("chat actor stopped while sending"))) })
    }
}

pub struct ChatActor {
    chat: ChatId,
    db: DbPool,
    clock: Clock,
    /// Members as of the last send.
    members: Vec<UserId>,
}

impl Actor for ChatActor {
    type Context = Context<Self>;
}

/// The registry found the chat idle: stop after the sends already queued.
#[derive(Message)]
#[rtype(result = "()")]
struct Stop;

impl Handler<Stop> for ChatActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}

impl Handler<Counted<SendMessage>> for ChatActor {
    // Atomic: the next send of this chat starts after this one committed.
    type Result = AtomicResponse<Self, Result<Result<MessageRow, SendRefusal>, DbError>>;

    fn handle(&mut self, msg: Counted<SendMessage>, _: &mut Self::Context) -> Self::Result {
        let msg = msg.take();
        let (db, clock, chat) = (self.db.clone(), self.clock, self.chat);
        let span = hop_span!(msg.trace.as_deref(), "chat.send", chat = %chat);
        let trace = trace_context::of(&span);
        let work = async move {
            let mut conn = db.get().await?;
            conn.transaction(async |conn| {
                // Serializes sends of this chat across nodes; the time is read after the lock.
                let locked: Option<ChatId> = chats_table::table
                    .find(chat)
                    .select(chats_table::id)
                    .for_no_key_update()
                    .first(conn)
                    .await
                    .optional()?;
                let members = match locked {
                    Some(_) => chats::members_for_share(conn, chat).await?,
                    None => Vec::new(),
                };
                if !members.contains(&msg.author) {
                    return Ok((members, Err(SendRefusal::NotMember)));
                }
                if let Some(reply) = msg.reply_to
                    && !messages::is_in_chat(conn, reply, chat).await?
                {
                    return Ok((members, Err(SendRefusal::BadReply)));
                }
                let now = clock.now();
                let message = messages::insert(conn, chat, msg.author, &msg.text, msg.reply_to, now).await?;
                chats::set_last_message(conn, chat, message.id, now).await?;
                let event = Event::NewMessage(wire::Message::new(&message, msg.author_shown_as.clone()));
                event.queue_traced(conn, &members, trace.as_deref()).await?;
                Ok::<_, DbError>((members, Ok(message)))
            })
            .await
        }
        .instrument(span);
        AtomicResponse::new(Box::pin(fut::wrap_future::<_, Self>(work).map(|result, actor, _| {
            result.map(|(members, sent)| {
                actor.members = members;
                sent
            })
        })))
    }
}
