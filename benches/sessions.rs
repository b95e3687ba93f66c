//! Who is calling? Answered by the session actors (the path every request takes) versus a
//! database round trip (what it would cost without them). Needs PostgreSQL (`NOSEBOOK_BENCH_PG`,
//! default postgres://postgres@127.0.0.1:5432); skipped with a message when it is not there.
//! `cargo bench --bench sessions`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix::Actor;
use criterion::{Criterion, criterion_group, criterion_main};
use nosebook_actors::{Authenticate, PresenceTracker, SessionDirectory};
use nosebook_schema::ids::SessionId;
use nosebook_schema::queries::sessions;
use nosebook_schema::time::Clock;
use nosebook_schema::{DbPool, PoolSettings};
use nosebook_telemetry::metrics::Counted;
use support::{Actix, prepare};
use uuid::Uuid;

const SESSION: &str = "bb23af03-be50-4bce-b729-b259b2e02e54";

fn session_lookup(c: &mut Criterion) {
    let system = actix::System::new();
    let server = std::env::var("NOSEBOOK_BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let url = match system.block_on(prepare(&server)) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("skipping the session benches: PostgreSQL at {server} is not usable ({e})");
            return;
        }
    };
    let settings = PoolSettings { url, max_size: 4, timeout: std::time::Duration::from_secs(5) };
    let db = DbPool::new(&settings).unwrap();
    let session = SessionId(Uuid::parse_str(SESSION).unwrap());
    let directory = system.block_on(async {
        let presence = PresenceTracker::new(Clock::testing()).start();
        SessionDirectory::new(db.clone(), Clock::testing(), presence).start()
    });
    // The first lookup loads the session and writes its activity; the benchmark measures the
    // steady state that every later request of a session sees.
    system
        .block_on(directory.send(Counted::new(Authenticate(session), nosebook_actors::sessions::MAILBOX)))
        .unwrap()
        .unwrap()
        .unwrap();

    c.bench_function("sessions/authenticate via the session actors", |b| {
        b.to_async(Actix(&system)).iter(|| async {
            directory
                .send(Counted::new(Authenticate(session), nosebook_actors::sessions::MAILBOX))
                .await
                .unwrap()
                .unwrap()
                .unwrap()
        })
    });
    c.bench_function("sessions/authenticate via a database round trip", |b| {
        b.to_async(Actix(&system)).iter(|| async {
            let mut conn = db.get().await.unwrap();
            sessions::find_with_user(&mut conn, session).await.unwrap().unwrap()
        })
    });
}

criterion_group!(benches, session_lookup);
criterion_main!(benches);
