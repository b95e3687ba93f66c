//! Shared by every test binary: a fresh PostgreSQL database per test, cloned from a migrated
//! template (fast), so tests run in parallel against a real server.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Server and admin database of the tests; `NOSEBOOK_TEST_PG` overrides.
pub fn server_url() -> String {
    std::env::var("NOSEBOOK_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// The migrated template, named after what its migrations say (names and SQL): worktrees and
/// branches share one PostgreSQL server, and a template migrated from other migrations — another
/// branch's, or an edited one — must never be taken for ours.
fn template() -> String {
    // FNV-1a: stable across builds and machines.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &byte in bytes.iter().chain(b"\n") {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut migrations: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    migrations.sort();
    for migration in migrations {
        feed(migration.file_name().unwrap().as_encoded_bytes());
        feed(&std::fs::read(migration.join("up.sql")).unwrap());
    }
    format!("nosebook_test_template_{:08x}", hash as u32)
}
/// Serializes template creation across test processes (nextest runs one process per test).
const TEMPLATE_LOCK: i64 = 0x6e6f_7365_626f_6f6b;

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

async fn execute(conn: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A test database's name: the test process's id, then a random part. The next database made on
/// this machine drops it once that process is gone ([`drop_databases_of_ended_tests`]): leftovers
/// stay as few as the tests running at once, and no run touches the databases of another that is
/// still going (`cargo nextest` beside `scripts/test`).
fn database_name() -> String {
    let random = Uuid::new_v4().simple().to_string();
    format!("nosebook_test_p{}_{}", std::process::id(), &random[..16])
}

/// The id of the test process that made database `name`, if a test made it.
fn creator(name: &str) -> Option<u32> {
    name.strip_prefix("nosebook_test_p")?.split_once('_')?.0.parse().ok()
}

/// A row of `pg_database`, by name.
#[derive(diesel::QueryableByName)]
pub struct Database {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub datname: String,
}

/// Drops the databases whose test process has ended (on this machine: PostgreSQL is the one the
/// tests start here). A test cannot drop its own on the way out — a server it started may still
/// be connected, and a panicking test never gets there — so each new one clears up after the
/// ones before it, on a thread of its own (answered, if there was anything to drop): a drop takes
/// a while, which the test need not wait for. Errors are ignored: two tests may race to drop the
/// same database, and one this process ends before dropping is left to the next.
pub async fn drop_databases_of_ended_tests(admin: &mut AsyncPgConnection) -> Option<std::thread::JoinHandle<()>> {
    let Ok(databases) =
        diesel::sql_query("SELECT datname::text FROM pg_database WHERE datname LIKE 'nosebook\\_test\\_p%'")
            .load::<Database>(admin)
            .await
    else {
        return None;
    };
    let ended: Vec<String> = databases
        .into_iter()
        .map(|database| database.datname)
        .filter(|name| creator(name).is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()))
        .collect();
    if ended.is_empty() {
        return None;
    }
    let server = format!("{}/postgres", server_url());
    Some(std::thread::spawn(move || {
        use diesel::Connection as _;
        let Ok(mut admin) = diesel::PgConnection::establish(&server) else { return };
        for name in ended {
            let drop = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            let _ = diesel::RunQueryDsl::execute(drop, &mut admin);
        }
    }))
}

/// A new, migrated, empty database; returns its URL.
pub async fn fresh_database() -> String {
    let server = server_url();
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres"))
        .await
        .expect("the tests need PostgreSQL (scripts/test starts it)");
    drop_databases_of_ended_tests(&mut admin).await;
    let template = template();
    execute(&mut admin, &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})")).await;
    let exists =
        diesel::sql_query(format!("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{template}') AS exists"))
            .get_result::<Exists>(&mut admin)
            .await
            .unwrap()
            .exists;
    if !exists {
        let building = format!("{template}_building");
        execute(&mut admin, &format!("DROP DATABASE IF EXISTS {building}")).await;
        execute(&mut admin, &format!("CREATE DATABASE {building}")).await;
        nosebook_schema::migrate::run_pending(&format!("{server}/{building}")).await.unwrap();
        execute(&mut admin, &format!("ALTER DATABASE {building} RENAME TO {template}")).await;
    }
    let name = database_name();
    execute(&mut admin, &format!("CREATE DATABASE {name} TEMPLATE {template}")).await;
    execute(&mut admin, &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})")).await;
    format!("{server}/{name}")
}

/// Connects to a test database directly, to arrange or inspect rows.
pub async fn connect(url: &str) -> AsyncPgConnection {
    AsyncPgConnection::establish(url).await.unwrap()
}

/// The original seed's ids and sessions (docs/API.md §8).
pub mod server;

pub mod seed {
    pub const TEST_TESTER: &str = "ed1a3fd0-4d0b-4961-b4cd-cf212357740d";
    pub const ASS_ASSER: &str = "ed1a3fd0-4d0b-4961-b4cd-cf2123577666";
    pub const DRUGTESTER: &str = "1ae02f69-ea1a-4308-b825-0e5896e652e4";
    pub const MARINA: &str = "48683858-796c-45ad-a361-9e3d6d003354";
    pub const SASHA: &str = "baa0e8bc-385f-4314-9580-29855aff2229";
    pub const TOLBER: &str = "37d28fdf-99bc-44b5-8df9-6a3b1a36f177";
    pub const SANAL: &str = "2db640fd-7aa4-4bba-8ee6-3935b700297a";
    /// drugtester's post on his own wall with 7 likes and 8 comments.
    pub const LIKED_POST: &str = "c7b7bf17-38f9-4ed5-b0a8-501a90f7c8e7";
    /// asser's post on drugtester's wall: the like test's target.
    pub const ASSER_POST: &str = "c7b7bf17-38f9-4ed5-b0a8-501a90f7c829";
    /// test_tester's post on drugtester's wall.
    pub const TESTER_POST_ON_DRUG: &str = "27b7bf17-38f9-4ed5-b0a8-501a90f7c8e7";
    /// drugtester's post on test_tester's wall.
    pub const DRUG_POST_ON_TESTER: &str = "27b7bf27-38f9-4ed5-b0a8-501a90f7c8e7";
    /// test_tester's comment on LIKED_POST.
    pub const TESTER_COMMENT: &str = "120c79b8-3927-48b7-a308-1ffd3db6036f";
    /// asser's comment that is on no post.
    pub const LOOSE_COMMENT: &str = "620c79b7-3927-48b7-a308-1ffd3db6036f";
    /// drugtester's first comment on LIKED_POST ("3nd comment message").
    pub const DRUG_COMMENT: &str = "d0023f4d-8d7f-4907-9438-d2ed2a9661f0";
    /// test_tester's default session.
    pub const SESSION: &str = "bb23af03-be50-4bce-b729-b259b2e02e54";
    /// test_tester's second session, the one the original's logout test ends.
    pub const SESSION_2: &str = "bb23af03-be50-4bce-b729-b259b2e02e55";
    /// ass_asser's session.
    pub const ASSER_SESSION: &str = "bb23af03-be50-4bce-b729-b259b2e02e56";
    pub const PASSWORD: &str = "123123123";
}

/// A new database with nothing in it, not even the schema: for tests of `nosebook migrate`.
pub async fn empty_database() -> String {
    let server = server_url();
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres")).await.unwrap();
    drop_databases_of_ended_tests(&mut admin).await;
    let name = database_name();
    execute(&mut admin, &format!("CREATE DATABASE {name}")).await;
    format!("{server}/{name}")
}

/// RabbitMQ of the tests; `NOSEBOOK_TEST_AMQP` overrides.
pub fn amqp_url() -> String {
    std::env::var("NOSEBOOK_TEST_AMQP").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Deletes a test's exchange and its event log (the stream `<exchange>.log`, which, unlike a
/// connection's queues, stays on the broker's disk until deleted) when the test is done.
pub fn delete_exchange(exchange: String) {
    let work = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let Ok(connection) = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default()).await
            else {
                return;
            };
            if let Ok(channel) = connection.create_channel().await {
                let log = format!("{exchange}.log");
                let _ = channel.queue_delete(log.into(), lapin::options::QueueDeleteOptions::default()).await;
                let _ =
                    channel.exchange_delete(exchange.into(), lapin::options::ExchangeDeleteOptions::default()).await;
            }
            let _ = connection.close(0, "done".into()).await;
        });
    });
    let _ = work.join();
}

/// Deletes the event log of `exchange` (the stream `<exchange>.log`) under running nodes, as an
/// operator's reset or a broker that lost its data would.
pub async fn delete_log(exchange: &str) {
    let connection = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default()).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    let log = format!("{exchange}.log");
    channel.queue_delete(log.into(), lapin::options::QueueDeleteOptions::default()).await.unwrap();
    let _ = connection.close(0, "done".into()).await;
}

/// Waits until the event log of `exchange` is served again (a consumer can subscribe to it)
/// after a restart of the broker.
pub async fn await_log(exchange: &str) {
    let log = format!("{exchange}.log");
    for _ in 0..600 {
        if let Ok(connection) = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default()).await {
            // A passive declare succeeds before the stream is served again: consume from it.
            let declared = async {
                let channel = connection.create_channel().await?;
                channel.basic_qos(1, lapin::options::BasicQosOptions::default()).await?;
                let mut arguments = lapin::types::FieldTable::default();
                arguments.insert("x-stream-offset".into(), lapin::types::AMQPValue::LongString("next".into()));
                let options = lapin::options::BasicConsumeOptions::default();
                channel.basic_consume(log.as_str().into(), "".into(), options, arguments).await
            };
            let ok = declared.await.is_ok();
            let _ = connection.close(0, "done".into()).await;
            if ok {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the event log never came back");
}

/// What a [`cuttable_proxy`] does with its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Both ways.
    Up,
    /// The client's bytes reach the server, the server's answers wait in the proxy (a broker
    /// that takes a publish but whose confirm does not come back).
    Deaf,
    /// Every connection dropped, new ones refused.
    Cut,
}

/// A TCP proxy (to RabbitMQ, to a server) whose link can be cut, or made deaf, and restored.
pub fn cuttable_proxy(target: &str) -> (u16, tokio::sync::watch::Sender<Link>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let target = target.to_owned();
    let (link, watch_link) = tokio::sync::watch::channel(Link::Up);
    tokio::spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let Ok((client, _)) = listener.accept().await else {
                continue;
            };
            if *watch_link.borrow() == Link::Cut {
                continue; // dropped: refused while cut
            }
            let mut cut = watch_link.clone();
            let mut hearing = watch_link.clone();
            let target = target.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else {
                    return;
                };
                let ((mut client_r, mut client_w), (mut server_r, mut server_w)) =
                    (client.into_split(), server.into_split());
                let up = tokio::io::copy(&mut client_r, &mut server_w);
                // The server's bytes are neither read nor passed on while the link is deaf.
                let down = async {
                    let mut buf = vec![0u8; 16 << 10];
                    loop {
                        let _ = hearing.wait_for(|link| *link != Link::Deaf).await;
                        let n = server_r.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        // Held while deaf; dropped if the link is cut meanwhile.
                        let held = hearing.wait_for(|link| *link != Link::Deaf).await.map(|link| *link).ok();
                        if held != Some(Link::Up) {
                            return;
                        }
                        if client_w.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                tokio::select! {
                    _ = up => {}
                    () = down => {}
                    _ = cut.wait_for(|link| *link == Link::Cut) => {}
                }
            });
        }
    });
    (port, link)
}
