//! Chat sends through the chat writers against the real PostgreSQL: sends that arrive while a
//! batch commits are written together, one transaction per batch (lock the chats, read their
//! members, one statement for the messages, the chats' newest-message pointers and one outbox
//! row per event). Needs PostgreSQL
//! (`NOSEBOOK_BENCH_PG`, default postgres://postgres@127.0.0.1:5432); skipped with a message when
//! it is not there. `cargo bench --bench chats`

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diesel_async::{AsyncConnection, RunQueryDsl};
use futures_util::future::join_all;
use std::sync::Arc;

use nosebook_actors::threads::Arbiters;
use nosebook_actors::{ChatWriters, SendMessage};
use nosebook_events::wire::User;
use nosebook_schema::ids::{ChatId, UserId};
use nosebook_schema::models::NewUser;
use nosebook_schema::queries::{chats, users};
use nosebook_schema::time::Clock;
use nosebook_schema::{DbError, DbPool, PoolSettings};
use support::{Actix, prepare};

/// Private chats the concurrent case spreads its sends over.
const CHATS: usize = 16;
/// Sends in flight at once in the concurrent case.
const IN_FLIGHT: usize = 64;
/// The server's default pool size (`NOSEBOOK_DB_POOL_SIZE`).
const POOL: usize = 16;

/// One private chat between two new users: who writes in it, and the sender's wire object the
/// `new_message` frame embeds.
#[derive(Clone)]
struct Pair {
    chat: ChatId,
    author: UserId,
    author_view: User,
}

async fn create_pairs(db: &DbPool, count: usize) -> Result<Vec<Pair>, DbError> {
    let mut conn = db.get().await?;
    let now = Clock::System.now();
    let mut pairs = Vec::with_capacity(count);
    for i in 0..count {
        let (a, b) = (format!("bench_chat_a{i}"), format!("bench_chat_b{i}"));
        let mut insert = async |nick: &str| {
            users::insert(
                &mut conn,
                &NewUser {
                    id: UserId::new_random(),
                    first_name: "Bench",
                    last_name: nick,
                    nick,
                    passhash: "",
                    created_at: now,
                    last_activity_at: now,
                },
            )
            .await
        };
        let author = insert(&a).await?;
        let other = insert(&b).await?;
        let chat =
            conn.transaction(async |conn| chats::find_or_create_private(conn, author.id, other.id, now).await).await?;
        pairs.push(Pair { chat, author: author.id, author_view: User::new(author, now) });
    }
    Ok(pairs)
}

/// A send as `POST /conversations/send-message` makes it, the frame built the same way.
async fn send(writers: &ChatWriters, pair: &Pair, text: &str) {
    let sent = writers
        .send(SendMessage {
            chat: pair.chat,
            author: pair.author,
            text: text.to_owned(),
            reply_to: None,
            author_shown_as: pair.author_view.clone(),
            trace: None,
        })
        .await
        .unwrap();
    assert!(sent.is_ok(), "the author is a member");
}

fn chat_sends(c: &mut Criterion) {
    let system = actix::System::new();
    let server = std::env::var("NOSEBOOK_BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let url = match system.block_on(prepare(&server)) {
        Ok(url) => url,
        Err(e) => {
            eprintln!("skipping the chat benches: PostgreSQL at {server} is not usable ({e})");
            return;
        }
    };
    let settings = PoolSettings { url, max_size: POOL, timeout: Duration::from_secs(5) };
    let db = DbPool::new(&settings).unwrap();
    let pairs = system.block_on(create_pairs(&db, CHATS)).unwrap();
    // Events go nowhere: the bench measures the writes.
    let registry = system
        .block_on(async { ChatWriters::start(db.clone(), Clock::System, Arc::new(|_| {}), &Arbiters::per_core()) });
    // Warm every writer and open the pool's connections before measuring.
    system.block_on(async {
        join_all(pairs.iter().cycle().take(IN_FLIGHT).map(|p| send(&registry, p, "warm-up"))).await;
    });
    let text = "Hi! Are we still on for tomorrow at ten? I will bring the documents.";

    let mut group = c.benchmark_group("chats/send");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one at a time to one chat", |b| {
        b.to_async(Actix(&system)).iter(|| send(&registry, &pairs[0], text))
    });
    group.throughput(Throughput::Elements(IN_FLIGHT as u64));
    group.bench_function(format!("{IN_FLIGHT} concurrent over {CHATS} chats"), |b| {
        b.to_async(Actix(&system))
            .iter(|| join_all(pairs.iter().cycle().take(IN_FLIGHT).map(|p| send(&registry, p, text))))
    });
    group.finish();

    let written: i64 = system.block_on(async {
        use diesel::QueryDsl;
        let mut conn = db.get().await.unwrap();
        nosebook_schema::schema::messages::table.count().get_result(&mut conn).await.unwrap()
    });
    println!("chats: {written} messages in the bench database at {} (pool of {POOL})", Utc::now());
}

criterion_group!(benches, chat_sends);
criterion_main!(benches);
