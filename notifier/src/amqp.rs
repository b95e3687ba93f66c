//! RabbitMQ as the transport between nodes, the way the original routes events: a direct
//! exchange (`notifications` by default), routing key = the recipient's user id, unroutable
//! messages to the `trashbox_exchange` alternate exchange. An event for several people is one
//! message: the first recipient is its routing key and the others are in its `CC` header
//! (RabbitMQ's sender-selected distribution), so the broker routes it once to every node queue
//! bound to any of them, and each node reads the whole list back from the message. An event for
//! more than [`MAX_CC`] people (a big group's message) goes instead to the key every node binds,
//! its recipients packed in one binary header: the broker looks up one key, not a thousand, and
//! a node reads 16 bytes per recipient instead of a thousand strings.
//!
//! Every event goes through the broker, also to the publishing node's own sockets: handing them
//! over directly saved about 1 ms more, but let an event published here overtake an earlier one
//! another node's relay published (a group's first message before the `chat_updated` that
//! announced the group).
//!
//! - [`AmqpTransport`] publishes outbox batches with publisher confirms; a batch counts as sent
//!   only when the broker acknowledged every message. A broken connection is rebuilt on the
//!   next batch.
//! - [`spawn_consumer`] gives a notifier node its own queue (kept across reconnections, expiring
//!   a minute after the node is gone), binds a user's routing key
//!   while that user has a socket here ([`RouteOp`]), and hands deliveries to the hub. When the
//!   consumer stream ends (lapin's signal that the connection is gone) it reconnects with
//!   backoff, declares everything again, re-binds every user still connected and resumes.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix::Addr;
use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer, ExchangeKind};
use nosebook_schema::ids::{UserId, parse_go_uuid};
use nosebook_schema::models::OutboxRow;
use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::Instrument;

use crate::hub::{self, CONTROL, Deliver, Hub};
use crate::transport::{RouteControl, RouteOp, Transport, TransportError, publish_span};
use nosebook_events::CONTROL_RECIPIENT;
use nosebook_telemetry::metrics::Counted;
use nosebook_telemetry::trace_context::{self, TRACEPARENT};

const ALTERNATE_EXCHANGE: &str = "trashbox_exchange";
/// The header RabbitMQ also routes by (sender-selected distribution).
const CC: &str = "CC";
/// Above this many recipients an event goes to every node ([`EVERYONE`]) rather than by `CC`.
const MAX_CC: usize = 32;
/// The routing key every node binds for events with many recipients.
const EVERYONE: &str = "everyone";
/// The recipients of an event sent to [`EVERYONE`]: their ids, 16 bytes each, back to back.
const TO: &str = "to";
/// A node's queue disappears this long after its node stopped consuming (it crashed or ended).
const QUEUE_EXPIRES_MS: u32 = 60_000;
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
    Ok((connection, channel))
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
                let Some((first, others)) = row.recipients.split_first() else {
                    continue;
                };
                let mut headers = FieldTable::default();
                if let Some(traceparent) = trace_context::of(&span) {
                    headers.insert(TRACEPARENT.into(), AMQPValue::LongString(traceparent.into()));
                }
                let key = if row.recipients.len() > MAX_CC {
                    headers.insert(TO.into(), AMQPValue::LongString(pack(&row.recipients).into()));
                    EVERYONE.to_owned()
                } else {
                    if !others.is_empty() {
                        let keys =
                            others.iter().map(|r| AMQPValue::LongString(routing_key(*r).into())).collect::<Vec<_>>();
                        headers.insert(CC.into(), AMQPValue::FieldArray(keys.into()));
                    }
                    routing_key(*first)
                };
                if !headers.inner().is_empty() {
                    properties = properties.with_headers(headers);
                }
                let publish = channel.basic_publish(
                    self.settings.exchange.as_str().into(),
                    key.into(),
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

/// Consumes this node's queue forever; returns the handle the hub binds and unbinds through.
pub fn spawn_consumer(settings: AmqpSettings, hub: Addr<Hub>) -> RouteControl {
    let (control, ops) = mpsc::unbounded_channel();
    actix::spawn(consume(settings, hub, ops));
    control
}

struct Node {
    _connection: Connection,
    channel: Channel,
    queue: ShortString,
    consumer: Consumer,
}

async fn connect_node(
    settings: &AmqpSettings,
    queue: &str,
    bound: &HashSet<UserId>,
    stale: &mut HashSet<UserId>,
) -> lapin::Result<Node> {
    let (connection, channel) = open_channel(settings).await?;
    // Not exclusive: the queue and its bindings outlive a lost connection, so events published
    // while this node reconnects wait in it. `x-expires` removes it once the node is gone.
    let options = QueueDeclareOptions { durable: true, ..QueueDeclareOptions::default() };
    let mut arguments = FieldTable::default();
    arguments.insert("x-expires".into(), AMQPValue::LongUInt(QUEUE_EXPIRES_MS));
    let queue = channel.queue_declare(queue.into(), options, arguments).await?;
    let queue = queue.name().clone();
    // Users who left while the broker was away still have bindings on the kept queue.
    for user in stale.iter() {
        unbind(&channel, settings, &queue, *user).await?;
    }
    stale.clear();
    for every_node in [CONTROL, EVERYONE] {
        channel
            .queue_bind(
                queue.clone(),
                settings.exchange.as_str().into(),
                every_node.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    for user in bound {
        bind(&channel, settings, &queue, *user, false).await?;
    }
    let no_ack = BasicConsumeOptions { no_ack: true, ..BasicConsumeOptions::default() };
    let consumer = channel.basic_consume(queue.clone(), "".into(), no_ack, FieldTable::default()).await?;
    Ok(Node { _connection: connection, channel, queue, consumer })
}

/// A person's events go to their user id; control messages to the key every node binds.
fn routing_key(recipient: UserId) -> String {
    if recipient == CONTROL_RECIPIENT { CONTROL.to_owned() } else { recipient.to_string() }
}

/// Routes `user`'s events to `queue`; with `nowait`, without waiting for the broker's answer.
async fn bind(
    channel: &Channel,
    settings: &AmqpSettings,
    queue: &ShortString,
    user: UserId,
    nowait: bool,
) -> lapin::Result<()> {
    channel
        .queue_bind(
            queue.clone(),
            settings.exchange.as_str().into(),
            user.to_string().into(),
            QueueBindOptions { nowait },
            FieldTable::default(),
        )
        .await
}

async fn unbind(channel: &Channel, settings: &AmqpSettings, queue: &ShortString, user: UserId) -> lapin::Result<()> {
    channel
        .queue_unbind(queue.clone(), settings.exchange.as_str().into(), user.to_string().into(), FieldTable::default())
        .await
}

fn recipient_of(key: &str) -> Option<UserId> {
    match key {
        CONTROL => Some(CONTROL_RECIPIENT),
        key => parse_go_uuid(key).map(UserId).ok(),
    }
}

/// The packed `to` header of an event for everyone, the routing key and every `CC` key
/// otherwise; `None` if any of them is not a recipient.
fn recipients_of(delivery: &lapin::message::Delivery) -> Option<Vec<UserId>> {
    let headers = delivery.properties.headers().as_ref().map(FieldTable::inner);
    if delivery.routing_key.as_str() == EVERYONE {
        let Some(AMQPValue::LongString(packed)) = headers?.get(TO) else { return None };
        return unpack(packed.as_bytes());
    }
    let mut recipients = vec![recipient_of(delivery.routing_key.as_str())?];
    if let Some(cc) = headers.and_then(|headers| headers.get(CC)) {
        let AMQPValue::FieldArray(keys) = cc else { return None };
        for key in keys.as_slice() {
            let AMQPValue::LongString(key) = key else { return None };
            recipients.push(recipient_of(std::str::from_utf8(key.as_bytes()).ok()?)?);
        }
    }
    Some(recipients)
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

fn deliver(hub: &Addr<Hub>, delivery: lapin::message::Delivery) {
    let recipients = recipients_of(&delivery);
    let event_id = delivery.properties.message_id().as_ref().and_then(|id| id.as_str().parse::<i64>().ok());
    let trace = delivery.properties.headers().as_ref().and_then(|headers| match headers.inner().get(TRACEPARENT) {
        Some(AMQPValue::LongString(value)) => Some(value.to_string()),
        _ => None,
    });
    let frame = String::from_utf8(delivery.data).ok();
    match (recipients, event_id, frame) {
        (Some(recipients), Some(event_id), Some(frame)) => {
            hub.do_send(Counted::new(Deliver { event_id, recipients, frame: frame.into(), trace }, hub::MAILBOX))
        }
        _ => tracing::warn!("dropping a malformed event from RabbitMQ"),
    }
}

async fn consume(settings: AmqpSettings, hub: Addr<Hub>, mut ops: mpsc::UnboundedReceiver<RouteOp>) {
    // One queue per node process, kept across reconnections.
    let queue = format!("nosebook.notifier.{}", uuid::Uuid::new_v4());
    // Who should be routed here; survives reconnections.
    let mut bound: HashSet<UserId> = HashSet::new();
    // Who left while the broker was unreachable: unbound on reconnect.
    let mut stale: HashSet<UserId> = HashSet::new();
    let mut backoff = Duration::from_millis(100);
    loop {
        // A broker that does not answer at all counts as down, so route changes keep flowing.
        let connected = tokio::time::timeout(CONNECT_TIMEOUT, connect_node(&settings, &queue, &bound, &mut stale))
            .await
            .unwrap_or_else(|_| Err(lapin::Error::from(std::io::Error::from(std::io::ErrorKind::TimedOut))));
        match connected {
            Ok(mut node) => {
                tracing::info!(queue = %node.queue, "notifier consuming from RabbitMQ");
                backoff = Duration::from_millis(100);
                loop {
                    tokio::select! {
                        op = ops.recv() => {
                            let Some(op) = op else { return };
                            // Whatever else is waiting goes in the same batch.
                            let mut batch = vec![op];
                            while batch.len() < MAX_ROUTE_BATCH && let Ok(op) = ops.try_recv() {
                                batch.push(op);
                            }
                            if let Err(e) = apply_batch(batch, &mut bound, &mut stale, &node, &settings).await {
                                tracing::warn!(error = %e, "binding failed; reconnecting");
                                break;
                            }
                        }
                        delivery = node.consumer.next() => match delivery {
                            Some(Ok(delivery)) => deliver(&hub, delivery),
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "RabbitMQ consumer failed; reconnecting");
                                break;
                            }
                            None => {
                                tracing::warn!("RabbitMQ consumer ended; reconnecting");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "RabbitMQ unreachable");
                // Keep answering route changes while the broker is away; they apply on reconnect.
                let deadline = tokio::time::sleep(backoff);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        () = &mut deadline => break,
                        op = ops.recv() => {
                            let Some(op) = op else { return };
                            // Nothing to wait for: the binding is made on reconnect.
                            if let (_, Some(done)) = remember(op, &mut bound, &mut stale, false) {
                                let _ = done.send(());
                            }
                        }
                    }
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Route changes applied in one round trip.
const MAX_ROUTE_BATCH: usize = 512;

/// Applies route changes in order with one round trip for all of them: every operation but the
/// last goes out without waiting for its answer (`nowait`), and the last one waits. A channel
/// handles its methods in order, so when the last answer arrives every earlier binding is in
/// place too — only then are the waiting upgrades told.
async fn apply_batch(
    batch: Vec<RouteOp>,
    bound: &mut HashSet<UserId>,
    stale: &mut HashSet<UserId>,
    node: &Node,
    settings: &AmqpSettings,
) -> lapin::Result<()> {
    let last = batch.len().saturating_sub(1);
    let mut waiting = Vec::new();
    let mut result = Ok(());
    for (i, op) in batch.into_iter().enumerate() {
        let (user, done) = remember(op, bound, stale, true);
        // After a failure the rest is only remembered: everything is bound again on reconnect.
        if result.is_ok() {
            result = match done {
                Some(_) => bind(&node.channel, settings, &node.queue, user, i < last).await,
                None => unbind(&node.channel, settings, &node.queue, user).await,
            };
        }
        waiting.extend(done);
    }
    for done in waiting {
        let _ = done.send(());
    }
    result
}

/// Records who should be routed here after `op`, whatever the broker's state; hands back the user
/// and, for a binding, who waits for it. A user who leaves while the broker is away (`connected`
/// false) is remembered as stale, to be unbound on reconnect.
fn remember(
    op: RouteOp,
    bound: &mut HashSet<UserId>,
    stale: &mut HashSet<UserId>,
    connected: bool,
) -> (UserId, Option<oneshot::Sender<()>>) {
    match op {
        RouteOp::Bind(user, done) => {
            bound.insert(user);
            stale.remove(&user);
            (user, Some(done))
        }
        RouteOp::Unbind(user) => {
            bound.remove(&user);
            if !connected {
                stale.insert(user);
            }
            (user, None)
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
