//! RabbitMQ as the transport between nodes, and as the one ordered log of every event.
//!
//! Every event goes to one RabbitMQ *stream* (`<exchange>.log`, through the direct exchange
//! `notifications` by default with the key [`LOG_KEY`]), and every node reads the whole stream
//! from where it joined. The stream gives each event an offset, the same on every node and in
//! the order every node reads: it is the event's cursor (see `history.rs`), so a socket cut on
//! one node resumes on any other. A node delivers each event to the recipients that have a
//! socket on it; the recipients travel in one binary header, 16 bytes each.
//!
//! Every event goes through the broker, also to the publishing node's own sockets: handing them
//! over directly would let an event published here overtake an earlier one another node's relay
//! published (a group's first message before the `chat_updated` that announced the group), and
//! would give it no place in the log.
//!
//! - [`AmqpTransport`] publishes outbox batches with publisher confirms; a batch counts as sent
//!   only when the broker acknowledged every message. A broken connection is rebuilt on the
//!   next batch.
//! - [`spawn_consumer`] reads the stream into the hub. It starts where the log was the resume
//!   window ago and publishes a mark of its own: what it reads before its mark is the past, kept
//!   for sockets that resume (a node started in a rolling restart serves the cursors of clients
//!   pushed off the next node), and everything after it is delivered live. When the connection is
//!   lost it reconnects (at most [`MAX_BACKOFF`] apart, so a broker that returns is read again
//!   at once) and reads on from the last offset it had, so nothing published meanwhile is missed.
//! - **The log's epoch.** A stream deleted and created again under the same name (an operator's
//!   reset, a broker that lost its data) starts its offsets over, so a cursor names the
//!   incarnation too: its epoch, agreed on in PostgreSQL (`event_log_epochs`). A node that finds
//!   the stream missing, or reads on from its last offset and finds another event there or an
//!   earlier offset, draws a new epoch (compare-and-set from the one it knew, so nodes that find
//!   it together agree) and reads the new incarnation from its start; cursors of the old one get
//!   `resync_required`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix::Addr;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer, ExchangeKind};
use nosebook_schema::ids::UserId;
use nosebook_schema::models::OutboxRow;
use nosebook_schema::queries::event_log;
use nosebook_schema::{AsyncConnection, DbPool};
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::hub::{self, Deliver, Epoch, Hub, Published, Restart};
use crate::transport::{Transport, TransportError, publish_span};
use nosebook_telemetry::metrics::Counted;
use nosebook_telemetry::trace_context::{self, TRACEPARENT};

const ALTERNATE_EXCHANGE: &str = "trashbox_exchange";
/// The message id of a node's mark in the log starts so (see [`spawn_consumer`]); the rest is
/// drawn by the node, which knows its own.
const MARK: &str = "mark";
/// The routing key that leads to the log.
pub const LOG_KEY: &str = "log";
/// The recipients of an event: their ids, 16 bytes each, back to back.
const TO: &str = "to";
/// When the event was published, in milliseconds since the Unix epoch: the readers' lag.
const AT: &str = "at";
/// How long the stream keeps events. Resuming is served from each node's memory (a shorter
/// window); the stream only has to outlast a node's lost connection to the broker, after which
/// the node reads on from where it was.
const LOG_MAX_AGE: &str = "1h";
/// And at most this much of them on the broker's disk, in segments of [`LOG_SEGMENT_BYTES`]
/// (retention drops whole segments).
const LOG_MAX_BYTES: i64 = 1 << 30;
const LOG_SEGMENT_BYTES: i64 = 64 << 20;
/// Longest a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a publisher's connection attempt may take: its rows wait in the outbox meanwhile, and
/// the relay tries again soon.
const PUBLISH_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait between reconnection attempts: a refused connection costs the broker next to
/// nothing, and a node must read again within a second of the broker's return.
const MAX_BACKOFF: Duration = Duration::from_millis(250);

#[derive(Debug, Clone)]
pub struct AmqpSettings {
    pub url: String,
    pub exchange: String,
}

/// Connects and declares the exchanges; declares the log too when `create`. Answers whether the
/// log was missing (created now when `create`: a new incarnation, see the module's "epoch").
/// Only a reader creates the log, with its epoch, in one step under a lock (see [`subscribe`]):
/// a publisher that created it would leave the epoch of the old one in force.
async fn open_channel(settings: &AmqpSettings, create: bool) -> lapin::Result<(Connection, Channel, bool)> {
    let connection = Connection::connect(&settings.url, ConnectionProperties::default()).await?;
    let log = log_name(settings);
    let probe = connection.create_channel().await?;
    let passive = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
    let missing = match probe.queue_declare(log.as_str().into(), passive, FieldTable::default()).await {
        Ok(_) => {
            let _ = probe.close(200, "".into()).await;
            false
        }
        Err(e) if is_missing(&e) => true,
        Err(e) => return Err(e),
    };
    let channel = connection.create_channel().await?;
    let durable = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    channel.exchange_declare(ALTERNATE_EXCHANGE.into(), ExchangeKind::Fanout, durable, FieldTable::default()).await?;
    let mut arguments = FieldTable::default();
    arguments.insert("alternate-exchange".into(), AMQPValue::LongString(ALTERNATE_EXCHANGE.into()));
    channel.exchange_declare(settings.exchange.as_str().into(), ExchangeKind::Direct, durable, arguments).await?;
    if !create {
        return Ok((connection, channel, missing));
    }
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("stream".into()));
    arguments.insert("x-max-age".into(), AMQPValue::LongString(LOG_MAX_AGE.into()));
    arguments.insert("x-max-length-bytes".into(), AMQPValue::LongLongInt(LOG_MAX_BYTES));
    arguments.insert("x-stream-max-segment-size-bytes".into(), AMQPValue::LongLongInt(LOG_SEGMENT_BYTES));
    let options = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
    channel.queue_declare(log.as_str().into(), options, arguments).await?;
    let exchange = settings.exchange.as_str().into();
    channel
        .queue_bind(log.into(), exchange, LOG_KEY.into(), QueueBindOptions::default(), FieldTable::default())
        .await?;
    Ok((connection, channel, missing))
}

/// The broker's answer to a passive declare of a queue that does not exist: 404 NOT_FOUND "no
/// queue …". (A stream whose broker is still starting is NOT_FOUND too, "home node … is down":
/// not missing, only not served yet; that error fails the attempt like any other.)
fn is_missing(error: &lapin::Error) -> bool {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => {
            amqp.get_id() == 404 && amqp.get_message().as_str().contains("no queue")
        }
        _ => false,
    }
}

/// The stream every event goes to: named after the exchange, so that deployments (and tests)
/// sharing a broker each have their own.
pub fn log_name(settings: &AmqpSettings) -> String {
    format!("{}.log", settings.exchange)
}

fn unavailable(e: impl std::fmt::Display) -> TransportError {
    TransportError::Unavailable(e.to_string())
}

/// Publishes to RabbitMQ with confirms.
pub struct AmqpTransport {
    settings: AmqpSettings,
    open: Mutex<Option<(Connection, Channel)>>,
}

impl AmqpTransport {
    pub fn new(settings: AmqpSettings) -> Self {
        Self { settings, open: Mutex::new(None) }
    }

    async fn publish_all(&self, batch: &[OutboxRow]) -> Result<(), TransportError> {
        let mut open = self.open.lock().await;
        if !open.as_ref().is_some_and(|(_, channel)| channel.status().connected()) {
            let (connection, channel, missing) =
                tokio::time::timeout(PUBLISH_CONNECT_TIMEOUT, open_channel(&self.settings, false))
                    .await
                    .map_err(|_| unavailable("connecting timed out"))?
                    .map_err(unavailable)?;
            if missing {
                // Published now, the events would go nowhere; they wait until a reader created it.
                return Err(unavailable("the event log does not exist (yet)"));
            }
            channel.confirm_select(ConfirmSelectOptions::default()).await.map_err(unavailable)?;
            *open = Some((connection, channel));
        }
        let Some((_, channel)) = open.as_ref() else {
            return Err(unavailable("no channel"));
        };
        let result = async {
            let mut confirms = Vec::with_capacity(batch.len());
            for row in batch {
                let mut properties = BasicProperties::default()
                    .with_message_id(ShortString::from(row.id.to_string()))
                    .with_content_type("application/json".into());
                let span = publish_span(row);
                if row.recipients.is_empty() {
                    continue;
                }
                let mut headers = FieldTable::default();
                if let Some(traceparent) = trace_context::of(&span) {
                    headers.insert(TRACEPARENT.into(), AMQPValue::LongString(traceparent.into()));
                }
                headers.insert(TO.into(), AMQPValue::LongString(pack(&row.recipients).into()));
                headers.insert(AT.into(), AMQPValue::LongLongInt(now_millis()));
                properties = properties.with_headers(headers);
                let publish = channel.basic_publish(
                    self.settings.exchange.as_str().into(),
                    LOG_KEY.into(),
                    BasicPublishOptions::default(),
                    row.frame.as_bytes(),
                    properties,
                );
                let confirm = publish.instrument(span).await.map_err(unavailable)?;
                confirms.push(confirm);
            }
            for confirm in confirms {
                if !confirm.await.map_err(unavailable)?.is_ack() {
                    return Err(unavailable("the broker refused a message"));
                }
            }
            Ok(())
        }
        .await;
        if result.is_err() {
            // Start over with a fresh connection next time.
            *open = None;
        }
        result
    }
}

impl Transport for AmqpTransport {
    fn publish<'a>(
        &'a self,
        batch: &'a [OutboxRow],
    ) -> Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send + 'a>> {
        Box::pin(self.publish_all(batch))
    }
}

/// Reads the log into `hub` forever, first the last `past` of it (for resumes only); `db` is
/// where the nodes agree on the log's epoch.
pub fn spawn_consumer(settings: AmqpSettings, hub: Addr<Hub>, past: Duration, db: DbPool) {
    actix::spawn(consume(settings, hub, past, db));
}

/// Deliveries the broker may send ahead of our acknowledgements (a stream requires a limit).
const PREFETCH: u16 = 2_000;
/// Deliveries acknowledged at once; well under [`PREFETCH`], so the broker never waits on us.
const ACK_EVERY: u64 = 200;

/// Where a subscription starts reading.
enum Start {
    /// The node is starting: from where the log was `past` ago, up to the node's mark.
    Joining { past: Duration },
    /// After a lost connection: from the last offset read.
    From(i64),
    /// A new incarnation of the log: from its first event, all of it live.
    First,
}

/// A subscription to the log, and the epoch in force when it was opened.
struct Subscription {
    _connection: Connection,
    _channel: Channel,
    consumer: Consumer,
    epoch: String,
}

#[derive(Debug, thiserror::Error)]
enum SubscribeError {
    #[error(transparent)]
    Amqp(#[from] lapin::Error),
    #[error(transparent)]
    Db(#[from] nosebook_schema::DbError),
}

impl From<diesel::result::Error> for SubscribeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Subscribes from `start`, then publishes `mark`: whatever the stream held before it, the
/// subscription reads at least the mark, which places this node in the log (see [`consume`]).
///
/// The log is looked for, created if missing, and given its epoch in one step under a lock in
/// PostgreSQL that every node takes for it: nodes that start or reconnect together agree on
/// whether the log they read is new, and on its epoch.
async fn subscribe(
    settings: &AmqpSettings,
    db: &DbPool,
    start: &Start,
    mark: &str,
) -> Result<Subscription, SubscribeError> {
    let log = log_name(settings);
    let mut conn = db.get().await?;
    let (connection, channel, epoch) = conn
        .transaction(async |conn| {
            event_log::lock(conn, &log).await?;
            let known = event_log::epoch(conn, &log).await?;
            let (connection, channel, missing) = open_channel(settings, true).await?;
            let epoch = match known {
                Some(known) if !missing => known,
                _ => {
                    let epoch = new_epoch();
                    event_log::set(conn, &log, &epoch).await?;
                    epoch
                }
            };
            Ok::<_, SubscribeError>((connection, channel, epoch))
        })
        .await?;
    drop(conn);
    channel.basic_qos(PREFETCH, BasicQosOptions::default()).await?;
    let mut arguments = FieldTable::default();
    let offset = match start {
        Start::From(offset) => AMQPValue::LongLongInt(*offset),
        Start::First => AMQPValue::LongString("first".into()),
        Start::Joining { past } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            AMQPValue::Timestamp(now.saturating_sub(*past).as_secs())
        }
    };
    arguments.insert("x-stream-offset".into(), offset);
    let consumer =
        channel.basic_consume(log.as_str().into(), "".into(), BasicConsumeOptions::default(), arguments).await?;
    channel
        .basic_publish(
            settings.exchange.as_str().into(),
            LOG_KEY.into(),
            BasicPublishOptions::default(),
            b"",
            BasicProperties::default().with_message_id(mark.into()),
        )
        .await?;
    Ok(Subscription { _connection: connection, _channel: channel, consumer, epoch })
}

/// The offset RabbitMQ gives each delivery from a stream.
fn offset_of(delivery: &lapin::message::Delivery) -> Option<i64> {
    let headers = delivery.properties.headers().as_ref()?;
    match headers.inner().get("x-stream-offset")? {
        AMQPValue::LongLongInt(offset) => Some(*offset),
        AMQPValue::LongInt(offset) => Some(i64::from(*offset)),
        AMQPValue::LongUInt(offset) => Some(i64::from(*offset)),
        _ => None,
    }
}

/// The place this node read last: its offset and the id of the message there.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    offset: i64,
    message: Option<String>,
}

/// What the first delivery after a reconnection says about the log, read on from `from`.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// The message read last, again: the same log, read on.
    Same,
    /// A later offset: retention removed what this node had not read.
    MovedOn,
    /// An earlier offset, or another message at the same one: the log was created anew.
    Replaced,
}

fn found(from: &Place, offset: i64, message: Option<&str>) -> Found {
    match offset.cmp(&from.offset) {
        std::cmp::Ordering::Greater => Found::MovedOn,
        std::cmp::Ordering::Less => Found::Replaced,
        std::cmp::Ordering::Equal if from.message.as_deref() == message => Found::Same,
        std::cmp::Ordering::Equal => Found::Replaced,
    }
}

/// A fresh epoch for a log.
fn new_epoch() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

/// A new epoch for the log whose incarnation `known` is gone, or the one another node put in
/// force first. Tries until the database answers: until then the node cannot tell its sockets
/// where they are in the log.
async fn replace_epoch(db: &DbPool, log: &str, known: &str) -> String {
    let mut backoff = Duration::from_millis(100);
    loop {
        let replaced = async {
            let mut conn = db.get().await?;
            Ok::<_, nosebook_schema::DbError>(event_log::replace(&mut conn, log, known, &new_epoch()).await?)
        };
        match replaced.await {
            Ok(epoch) => return epoch,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "the event log's epoch could not be written");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

async fn consume(settings: AmqpSettings, hub: Addr<Hub>, past: Duration, db: DbPool) {
    let log = log_name(&settings);
    // The last place read: a reconnection reads on from it.
    let mut last: Option<Place> = None;
    // The epoch of the incarnation read; `None` until the first subscription.
    let mut epoch: Option<String> = None;
    let mut start = Start::Joining { past };
    // Until this node's first mark comes back, what it reads is the past.
    let joining_mark = format!("{MARK}:{}", uuid::Uuid::new_v4().simple());
    let mut catching_up = true;
    let mut backoff = Duration::from_millis(100);
    let lag = ::metrics::gauge!(nosebook_telemetry::metrics::EVENT_LOG_LAG);
    loop {
        let mark = if catching_up { joining_mark.clone() } else { format!("{MARK}:{}", uuid::Uuid::new_v4().simple()) };
        // A broker that does not answer at all counts as down.
        let subscribed = tokio::time::timeout(CONNECT_TIMEOUT, subscribe(&settings, &db, &start, &mark))
            .await
            .unwrap_or_else(|_| Err(lapin::Error::from(std::io::Error::from(std::io::ErrorKind::TimedOut)).into()));
        let mut subscription = match subscribed {
            Ok(subscription) => subscription,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "the event log is unreachable");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        // Another epoch in force than the one read before: the log was created anew meanwhile
        // (by this node or another), and its epoch agreed on already.
        let mut replaced = false;
        match &epoch {
            None => hub.do_send(Epoch { log: log.clone(), epoch: subscription.epoch.clone(), from: None }),
            Some(known) if *known != subscription.epoch => replaced = true,
            Some(_) => {}
        }
        epoch = Some(subscription.epoch.clone());
        tracing::info!(log = %log, epoch = %subscription.epoch, from = ?last.as_ref().map(|place| place.offset), "notifier reading the event log");
        // The first delivery tells whether this is still the log read before.
        let mut resuming = if replaced { None } else { last.clone() };
        let mut unacked = 0;
        while !replaced {
            let delivery = match subscription.consumer.next().await {
                Some(Ok(delivery)) => delivery,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "RabbitMQ consumer failed; reconnecting");
                    break;
                }
                None => {
                    tracing::warn!("RabbitMQ consumer ended; reconnecting");
                    break;
                }
            };
            unacked += 1;
            if unacked >= ACK_EVERY {
                unacked = 0;
                if let Err(e) = delivery.acker.ack(BasicAckOptions { multiple: true }).await {
                    tracing::warn!(error = %e, "acknowledging the log failed; reconnecting");
                    break;
                }
            }
            let Some(offset) = offset_of(&delivery) else {
                tracing::warn!("dropping a delivery without its stream offset");
                continue;
            };
            let message = delivery.properties.message_id().as_ref().map(|id| id.as_str().to_owned());
            if let Some(from) = resuming.take() {
                match found(&from, offset, message.as_deref()) {
                    Found::Same => {}
                    Found::MovedOn => {
                        tracing::warn!(from = from.offset, offset, "the log moved on while this node was away");
                        hub.do_send(Restart(offset));
                    }
                    Found::Replaced => {
                        // Created anew by someone who did not set its epoch (an operator, by hand).
                        let known = subscription.epoch.clone();
                        epoch = Some(replace_epoch(&db, &log, &known).await);
                        replaced = true;
                        break;
                    }
                }
            }
            if last.as_ref().is_some_and(|seen| offset <= seen.offset) {
                continue;
            }
            last = Some(Place { offset, message: message.clone() });
            if catching_up && message.as_deref() == Some(joining_mark.as_str()) {
                catching_up = false;
            }
            if let Some(at) = published_at(&delivery) {
                lag.set((now_millis() - at).max(0) as f64 / 1000.0);
            }
            deliver(&hub, delivery, offset, catching_up);
        }
        start = match (&last, replaced, &epoch) {
            (_, true, Some(epoch)) => {
                // A new incarnation: all of it is read, live; cursors of the old one resync.
                tracing::warn!(log = %log, %epoch, "the event log was created anew; reading it from its start");
                hub.do_send(Epoch { log: log.clone(), epoch: epoch.clone(), from: Some(-1) });
                last = None;
                catching_up = false;
                Start::First
            }
            (Some(place), _, _) => Start::From(place.offset),
            (None, _, _) => Start::Joining { past },
        };
    }
}

/// Milliseconds since the Unix epoch.
fn now_millis() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// When the delivery was published (its `at` header), in milliseconds since the Unix epoch.
fn published_at(delivery: &lapin::message::Delivery) -> Option<i64> {
    match delivery.properties.headers().as_ref()?.inner().get(AT)? {
        AMQPValue::LongLongInt(at) => Some(*at),
        _ => None,
    }
}

/// The event's recipients, from its `to` header; `None` if it has none or a torn one.
fn recipients_of(delivery: &lapin::message::Delivery) -> Option<Vec<UserId>> {
    let headers = delivery.properties.headers().as_ref().map(FieldTable::inner)?;
    let Some(AMQPValue::LongString(packed)) = headers.get(TO) else { return None };
    unpack(packed.as_bytes())
}

/// User ids, 16 bytes each, back to back.
fn pack(ids: &[UserId]) -> Vec<u8> {
    ids.iter().flat_map(|id| *id.0.as_bytes()).collect()
}

/// User ids packed 16 bytes each.
fn unpack(packed: &[u8]) -> Option<Vec<UserId>> {
    if !packed.len().is_multiple_of(16) {
        return None;
    }
    packed.chunks_exact(16).map(|id| uuid::Uuid::from_slice(id).ok().map(UserId)).collect()
}

/// Hands one delivery to the hub; `past`: read while catching up, kept for resumes only.
fn deliver(hub: &Addr<Hub>, delivery: lapin::message::Delivery, offset: i64, past: bool) {
    // A place in the log and nothing else: a node's mark, an event this node cannot read, or
    // one for nobody.
    let place = if past { Deliver::Past { offset, event: None } } else { Deliver::Mark { offset } };
    let id = delivery.properties.message_id().as_ref().map(|id| id.as_str());
    if id.is_some_and(|id| id.starts_with(MARK)) {
        hub.do_send(Counted::new(place, hub::MAILBOX));
        return;
    }
    let event_id = id.and_then(|id| id.parse::<i64>().ok());
    let recipients = recipients_of(&delivery);
    let trace = delivery.properties.headers().as_ref().and_then(|headers| match headers.inner().get(TRACEPARENT) {
        Some(AMQPValue::LongString(value)) => Some(value.to_string()),
        _ => None,
    });
    let frame = String::from_utf8(delivery.data).ok();
    let read = match (recipients, event_id, frame) {
        (Some(recipients), Some(id), Some(frame)) => {
            let event = Published { id, recipients, frame: frame.into(), trace };
            if past { Some(Deliver::past(offset, event)) } else { Deliver::live(Some(offset), event) }
        }
        _ => {
            tracing::warn!("dropping a malformed event from RabbitMQ");
            None
        }
    };
    hub.do_send(Counted::new(read.unwrap_or(place), hub::MAILBOX));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_recipients_read_back_and_a_torn_list_is_refused() {
        let ids: Vec<UserId> = (0..40).map(|_| UserId(uuid::Uuid::new_v4())).collect();
        let packed = pack(&ids);
        assert_eq!(unpack(&packed), Some(ids));
        assert_eq!(unpack(&packed[..packed.len() - 1]), None);
    }
}
