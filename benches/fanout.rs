//! Fan-out of one event through the hub to in-process connections: from `Deliver` until every
//! connection took the frame from its mailbox. Each connection is a task that empties its
//! mailbox, as a socket's task does (`connection.rs`), minus the socket: taking the frame is
//! where it signals. No database, no broker.
//! `cargo bench --bench fanout`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::cell::Cell;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nosebook_notifier::connection::OUTBOUND_QUEUE;
use nosebook_notifier::hub::{self, Connect, Deliver, Frame, Hub, Stats};
use nosebook_notifier::mailbox::{Mailbox, Next};
use nosebook_schema::ids::UserId;
use nosebook_telemetry::metrics::Counted;
use support::Actix;
use tokio::sync::Notify;

/// Frames still to be taken in this round, and who waits for the last one.
#[derive(Default)]
struct Round {
    remaining: AtomicUsize,
    done: Notify,
}

impl Round {
    fn took_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A permit is stored if the waiter is not parked yet.
            self.done.notify_one();
        }
    }
}

/// Opens a browser tab of `user` without its socket, registered with the hub the way
/// `connection::register` does it.
async fn open_tab(hub: &Addr<Hub>, user: UserId, round: &Arc<Round>) {
    let mailbox = Arc::new(Mailbox::new(OUTBOUND_QUEUE));
    hub.send(Connect {
        user,
        session: nosebook_schema::ids::SessionId(uuid::Uuid::new_v4()),
        mailbox: mailbox.clone(),
        resume: nosebook_notifier::hub::Resume::No,
    })
    .await
    .unwrap();
    let round = round.clone();
    actix::spawn(async move {
        // The socket hands the shared frame to the connection as is (a reference count, no copy).
        while let Next::Frame(outbound) = mailbox.next().await {
            black_box(outbound.frame);
            round.took_one();
        }
    });
}

/// A `new_message` frame of the usual size.
fn frame() -> Frame {
    let frame = r#"{"type":"new_message","payload":{"id":"0b7bd5a4-1f7e-4c1b-9d7a-3c1f2e9b8a71","author":{"id":"ed1a3fd0-4d0b-4961-b4cd-cf212357740d","firstName":"Tester","lastName":"Testerov","nick":"test_tester","lastOnlineAt":"2024-08-10T10:10:10Z","online":true},"text":"Hi! Are we still on for tomorrow at ten? I will bring the documents.","chatId":"6f0c3a0e-52f5-4a3a-a0c8-3a4d5c2b1e90","createdAt":"2024-08-10T10:10:10.123456Z"}}"#;
    frame.into()
}

/// A hub with `users` users of `tabs` tabs each, all counting into one round.
async fn connected(users: usize, tabs: usize) -> (Addr<Hub>, Vec<UserId>, Arc<Round>) {
    let hub = Hub::new(Default::default()).start();
    let round = Arc::new(Round::default());
    let ids: Vec<UserId> = (0..users).map(|_| UserId::new_random()).collect();
    for user in &ids {
        for _ in 0..tabs {
            open_tab(&hub, *user, &round).await;
        }
    }
    (hub, ids, round)
}

fn fanout(c: &mut Criterion) {
    let system = actix::System::new();
    let frame = frame();
    // The hub drops an event id it has seen: every delivery gets a fresh one.
    let next_event = Cell::new(0_i64);
    let event_id = || {
        next_event.set(next_event.get() + 1);
        next_event.get()
    };

    // One event for every user, as a group message is; `expected` frames in all. Sent counted in
    // the hub's mailbox, as the AMQP consumer and the in-process transport send it.
    let deliver_round = |hub: &Addr<Hub>, users: &[UserId], round: &Arc<Round>, expected: usize| {
        round.remaining.store(expected, Ordering::Release);
        hub.do_send(Counted::new(Deliver::event(event_id(), users.to_vec(), frame.clone()), hub::MAILBOX));
        let round = round.clone();
        async move { round.done.notified().await }
    };

    for (name, shape) in [("one user, N tabs", true), ("N users, one tab each", false)] {
        let mut group = c.benchmark_group(format!("fanout/{name}"));
        for n in [1_usize, 100, 10_000] {
            let (users, tabs) = if shape { (1, n) } else { (n, 1) };
            let (hub, ids, round) = system.block_on(connected(users, tabs));
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.to_async(Actix(&system)).iter(|| deliver_round(&hub, &ids, &round, n))
            });
            let stats = system.block_on(hub.send(Stats)).unwrap();
            assert_eq!(stats.connections, n, "no connection was cut off");
            assert_eq!(stats.slow_consumers_closed, 0);
            // Dropping the hub ends every tab's queue, and with it the tab.
        }
        group.finish();
    }
}

criterion_group!(benches, fanout);
criterion_main!(benches);
