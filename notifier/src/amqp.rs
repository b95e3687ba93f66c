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
//! over directly saved about 1 ms more, but let an event published here overtake an earlier one
//! another node's relay published (a group's first message before the `chat_updated` that
//! announced the group) — and gave it no place in the log.
//!
//! - [`AmqpTransport`] publishes outbox batches with publisher confirms; a batch counts as sent
//!   only when the broker acknowledged every message. A broken connection is rebuilt on the
//!   next batch.
//! - [`spawn_consumer`] reads the stream into the hub. It starts where the log was the resume
//!   window ago and publishes a mark of its own: what it reads before its mark is the past, kept
//!   for sockets that resume (a node started in a rolling restart serves the cursors of clients
//!   pushed off the next node), and everything after it is delivered live. When the connection is
//!   lost it reconnects with backoff and reads on from the last offset it had, so nothing
//!   published meanwhile is missed.

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
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::hub::{self, Deliver, Hub, Restart};
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
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct AmqpSettings {
    pub url: String,
    pub exchange: String,
}

async fn open_channel(settings: &AmqpSettings) -> lapin::Result<(Connection, Channel)> {
    let connection = Connection::connect(&settings.url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let durable = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    channel.exchange_declare(ALTERNATE_EXCHANGE.into(), ExchangeKind::Fanout, durable, FieldTable::default()).await?;
    let mut arguments = FieldTable::default();
    arguments.insert("alternate-exchange".into(), AMQPValue::LongString(ALTERNATE_EXCHANGE.into()));
    channel.exchange_declare(settings.exchange.as_str().into(), ExchangeKind::Direct, durable, arguments).await?;
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("stream".into()));
    arguments.insert("x-max-age".into(), AMQPValue::LongString(LOG_MAX_AGE.into()));
    arguments.insert("x-max-length-bytes".into(), AMQPValue::LongLongInt(LOG_MAX_BYTES));
    arguments.insert("x-stream-max-segment-size-bytes".into(), AMQPValue::LongLongInt(LOG_SEGMENT_BYTES));
    let log = log_name(settings);
    let options = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
    channel.queue_declare(log.as_str().into(), options, arguments).await?;
    let exchange = settings.exchange.as_str().into();
    channel
        .queue_bind(log.into(), exchange, LOG_KEY.into(), QueueBindOptions::default(), FieldTable::default())
        .await?;
    Ok((connection, channel))
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
            let (connection, channel) = open_channel(&self.settings).await.map_err(unavailable)?;
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

/// Reads the log into `hub` forever, first the last `past` of it (for resumes only).
pub fn spawn_consumer(settings: AmqpSettings, hub: Addr<Hub>, past: Duration) {
    actix::spawn(consume(settings, hub, past));
}

/// Deliveries the broker may send ahead of our acknowledgements (a stream requires a limit).
const PREFETCH: u16 = 2_000;
/// Deliveries acknowledged at once; well under [`PREFETCH`], so the broker never waits on us.
const ACK_EVERY: u64 = 200;

/// Where a subscription starts reading.
enum Start {
    /// The node is starting: from where the log was `past` ago, up to the node's mark, `mark`.
    Joining { past: Duration, mark: String },
    /// After a lost connection: from the last offset read.
    From(i64),
}

async fn subscribe(settings: &AmqpSettings, start: &Start) -> lapin::Result<(Connection, Channel, Consumer)> {
    let (connection, channel) = open_channel(settings).await?;
    channel.basic_qos(PREFETCH, BasicQosOptions::default()).await?;
    let mut arguments = FieldTable::default();
    let offset = match start {
        Start::From(offset) => AMQPValue::LongLongInt(*offset),
        Start::Joining { past, .. } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            AMQPValue::Timestamp(now.saturating_sub(*past).as_secs())
        }
    };
    arguments.insert("x-stream-offset".into(), offset);
    let consumer =
        channel.basic_consume(log_name(settings).into(), "".into(), BasicConsumeOptions::default(), arguments).await?;
    if let Start::Joining { mark, .. } = start {
        // Where the past ends and live delivery begins for this node.
        channel
            .basic_publish(
                settings.exchange.as_str().into(),
                LOG_KEY.into(),
                BasicPublishOptions::default(),
                b"",
                BasicProperties::default().with_message_id(mark.as_str().into()),
            )
            .await?;
    }
    Ok((connection, channel, consumer))
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

async fn consume(settings: AmqpSettings, hub: Addr<Hub>, past: Duration) {
    // The last offset read: a reconnection reads on from it.
    let mut last: Option<i64> = None;
    let mark = format!("{MARK}:{}", uuid::Uuid::new_v4().simple());
    // Until this node's own mark comes back, what it reads is the past.
    let mut catching_up = true;
    let mut backoff = Duration::from_millis(100);
    loop {
        // A broker that does not answer at all counts as down.
        let start = match last {
            Some(offset) => Start::From(offset),
            None => Start::Joining { past, mark: mark.clone() },
        };
        let subscribed = tokio::time::timeout(CONNECT_TIMEOUT, subscribe(&settings, &start))
            .await
            .unwrap_or_else(|_| Err(lapin::Error::from(std::io::Error::from(std::io::ErrorKind::TimedOut))));
        let (_connection, _channel, mut consumer) = match subscribed {
            Ok(subscribed) => subscribed,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "RabbitMQ unreachable");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        tracing::info!(log = %log_name(&settings), from = ?last, "notifier reading the event log");
        backoff = Duration::from_millis(100);
        let mut resuming = last;
        let mut unacked = 0;
        loop {
            let delivery = match consumer.next().await {
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
            // The first delivery after a reconnection is the last one read, if the stream still
            // has it; if it does not, the log moved on without this node.
            if let Some(from) = resuming.take()
                && offset != from
            {
                tracing::warn!(from, offset, "the log moved on while this node was away");
                hub.do_send(Restart(offset));
            }
            if last.is_some_and(|seen| offset <= seen) {
                continue;
            }
            last = Some(offset);
            if catching_up && delivery.properties.message_id().as_ref().is_some_and(|id| id.as_str() == mark) {
                catching_up = false;
            }
            deliver(&hub, delivery, offset, catching_up);
        }
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
    let id = delivery.properties.message_id().as_ref().map(|id| id.as_str());
    if id.is_some_and(|id| id.starts_with(MARK)) {
        hub.do_send(Counted::new(Deliver { past, ..Deliver::place(offset) }, hub::MAILBOX));
        return;
    }
    let event_id = id.and_then(|id| id.parse::<i64>().ok());
    let recipients = recipients_of(&delivery);
    let trace = delivery.properties.headers().as_ref().and_then(|headers| match headers.inner().get(TRACEPARENT) {
        Some(AMQPValue::LongString(value)) => Some(value.to_string()),
        _ => None,
    });
    let frame = String::from_utf8(delivery.data).ok();
    match (recipients, event_id, frame) {
        (Some(recipients), Some(event_id), Some(frame)) => hub.do_send(Counted::new(
            Deliver { event_id, offset: Some(offset), recipients, frame: frame.into(), trace, past },
            hub::MAILBOX,
        )),
        _ => {
            tracing::warn!("dropping a malformed event from RabbitMQ");
            // Its place in the log still counts.
            hub.do_send(Counted::new(Deliver { past, ..Deliver::place(offset) }, hub::MAILBOX));
        }
    }
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
