//! Publishing the outbox to RabbitMQ: `AmqpTransport::publish` on batches of outbox rows
//! (publisher confirms: a batch is done when the broker acknowledged every message), then the
//! whole relay path (rows inserted into PostgreSQL, drained by `OutboxRelay` through the same
//! transport and marked published).
//!
//! Needs RabbitMQ (`NOSEBOOK_BENCH_AMQP`, default amqp://guest:guest@127.0.0.1:5672/%2f) and, for
//! the relay path, PostgreSQL (`NOSEBOOK_BENCH_PG`, default postgres://postgres@127.0.0.1:5432);
//! each part is skipped with a message when its server is not there. Publishes to its own
//! exchange, `nosebook.bench.relay`, routed to an exclusive queue of the bench that keeps only
//! the newest 10,000 messages; the exchange is deleted at the end.
//! `cargo bench --bench relay`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lapin::options::{ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use nosebook_notifier::OutboxRelay;
use nosebook_notifier::amqp::{AmqpSettings, AmqpTransport};
use nosebook_notifier::transport::{Transport, TransportError};
use nosebook_schema::ids::UserId;
use nosebook_schema::models::OutboxRow;
use nosebook_schema::queries::outbox;
use nosebook_schema::time::Clock;
use nosebook_schema::{DbPool, PoolSettings};
use support::{Actix, prepare};
use tokio::sync::Notify;

const EXCHANGE: &str = "nosebook.bench.relay";
/// What `AmqpTransport` declares its exchange with; a declaration must match it exactly.
const ALTERNATE_EXCHANGE: &str = "trashbox_exchange";
/// Rows per batch; 500 is the relay's own batch size.
const SIZES: [usize; 3] = [1, 100, 500];
/// Recipients the rows are spread over (each a binding of the bench queue).
const RECIPIENTS: usize = 16;
/// The bench queue keeps only this many messages (oldest dropped), so nothing piles up.
const QUEUE_MAX: i32 = 10_000;

/// A `new_message` frame of the usual size.
const FRAME: &str = r#"{"type":"new_message","payload":{"id":"0b7bd5a4-1f7e-4c1b-9d7a-3c1f2e9b8a71","author":{"id":"ed1a3fd0-4d0b-4961-b4cd-cf212357740d","firstName":"Tester","lastName":"Testerov","nick":"test_tester","lastOnlineAt":"2024-08-10T10:10:10Z","online":true},"text":"Hi! Are we still on for tomorrow at ten? I will bring the documents.","chatId":"6f0c3a0e-52f5-4a3a-a0c8-3a4d5c2b1e90","createdAt":"2024-08-10T10:10:10.123456Z"}}"#;

/// Declares the bench exchange as `AmqpTransport` would, and a bounded exclusive queue bound to
/// every recipient. The queue lives as long as the returned connection.
async fn broker(url: &str, recipients: &[UserId]) -> lapin::Result<Connection> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let mut arguments = FieldTable::default();
    arguments.insert("alternate-exchange".into(), AMQPValue::LongString(ALTERNATE_EXCHANGE.into()));
    let durable = ExchangeDeclareOptions { durable: true, ..ExchangeDeclareOptions::default() };
    channel.exchange_declare(EXCHANGE.into(), ExchangeKind::Direct, durable, arguments).await?;
    let mut arguments = FieldTable::default();
    arguments.insert("x-max-length".into(), AMQPValue::LongInt(QUEUE_MAX));
    let exclusive = QueueDeclareOptions { exclusive: true, ..QueueDeclareOptions::default() };
    let queue = channel.queue_declare("".into(), exclusive, arguments).await?;
    for user in recipients {
        channel
            .queue_bind(
                queue.name().clone(),
                EXCHANGE.into(),
                user.to_string().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(connection)
}

async fn delete_exchange(connection: Connection) {
    if let Ok(channel) = connection.create_channel().await {
        let _ = channel.exchange_delete(EXCHANGE.into(), ExchangeDeleteOptions::default()).await;
    }
    let _ = connection.close(0, "bench done".into()).await;
}

fn rows(count: usize, recipients: &[UserId]) -> Vec<OutboxRow> {
    (0..count)
        .map(|i| OutboxRow {
            id: i as i64 + 1,
            recipients: vec![recipients[i % recipients.len()]],
            frame: FRAME.to_owned(),
            trace_context: None,
        })
        .collect()
}

/// The real transport, counting what it got confirmed, so the bench knows when the relay is done.
struct Counting {
    inner: AmqpTransport,
    published: Arc<AtomicUsize>,
    progress: Arc<Notify>,
}

impl Transport for Counting {
    fn publish<'a>(
        &'a self,
        batch: &'a [OutboxRow],
    ) -> Pin<Box<dyn Future<Output = Result<(), TransportError>> + Send + 'a>> {
        Box::pin(async move {
            self.inner.publish(batch).await?;
            self.published.fetch_add(batch.len(), Ordering::AcqRel);
            self.progress.notify_one();
            Ok(())
        })
    }
}

fn relay(c: &mut Criterion) {
    let system = actix::System::new();
    let amqp = std::env::var("NOSEBOOK_BENCH_AMQP").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let recipients: Vec<UserId> = (0..RECIPIENTS).map(|_| UserId::new_random()).collect();
    let setup = match system
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), broker(&amqp, &recipients)).await })
    {
        Ok(Ok(connection)) => connection,
        Ok(Err(e)) => {
            println!("skipped: RabbitMQ not reachable at {amqp} ({e})");
            return;
        }
        Err(_) => {
            println!("skipped: RabbitMQ not reachable at {amqp} (no answer within 10 s)");
            return;
        }
    };
    let settings = AmqpSettings { url: amqp.clone(), exchange: EXCHANGE.into() };

    // The transport alone: one publish of a batch, confirms included.
    let transport = AmqpTransport::new(settings.clone());
    system.block_on(transport.publish(&rows(1, &recipients))).unwrap();
    let mut group = c.benchmark_group("relay/AmqpTransport::publish with confirms");
    for size in SIZES {
        let batch = rows(size, &recipients);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(BenchmarkId::new("batch", size), |b| {
            b.to_async(Actix(&system)).iter(|| async { transport.publish(&batch).await.unwrap() })
        });
    }
    group.finish();
    drop(transport);

    // The whole path: rows committed to the outbox, the relay woken, done when every row is
    // confirmed by the broker and marked published in PostgreSQL.
    let server = std::env::var("NOSEBOOK_BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    match system.block_on(prepare(&server)) {
        Ok(url) => {
            let db = DbPool::new(&PoolSettings { url, max_size: 4, timeout: Duration::from_secs(5) }).unwrap();
            let published = Arc::new(AtomicUsize::new(0));
            let progress = Arc::new(Notify::new());
            let transport = Counting {
                inner: AmqpTransport::new(settings),
                published: published.clone(),
                progress: progress.clone(),
            };
            let relay = OutboxRelay::new(db.clone(), Clock::System, Arc::new(transport), Arc::new(Notify::new()));
            system.block_on(async { relay.clone().spawn() });
            let drained = |size: usize| {
                let (db, relay, published, progress, recipients) =
                    (db.clone(), relay.clone(), published.clone(), progress.clone(), recipients.clone());
                async move {
                    let mut conn = db.get().await.unwrap();
                    let target = AtomicUsize::load(&published, Ordering::Acquire) + size;
                    let to: Vec<UserId> = recipients.iter().copied().cycle().take(size).collect();
                    outbox::push(&mut conn, &to, FRAME, None).await.unwrap();
                    relay.wake();
                    while AtomicUsize::load(&published, Ordering::Acquire) < target {
                        progress.notified().await;
                    }
                    // Confirmed; now wait for the relay's commit of `published_at`.
                    while outbox::backlog(&mut conn).await.unwrap().0 > 0 {}
                }
            };
            system.block_on(drained(1));
            let mut group = c.benchmark_group("relay/outbox rows inserted, relayed with confirms, marked");
            for size in SIZES {
                group.throughput(Throughput::Elements(size as u64));
                group.bench_function(BenchmarkId::new("rows", size), |b| {
                    b.to_async(Actix(&system)).iter(|| drained(size))
                });
            }
            group.finish();
            println!("relay: {} rows published through OutboxRelay", AtomicUsize::load(&published, Ordering::Acquire));
        }
        Err(e) => println!("skipped the relay path: PostgreSQL at {server} is not usable ({e})"),
    }

    system.block_on(delete_exchange(setup));
}

criterion_group!(benches, relay);
criterion_main!(benches);
