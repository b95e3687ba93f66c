//! Building and running the server from [`Settings`]: the one place the pieces are wired together.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use actix::{Addr, AsyncContext};
use actix_http::HttpService;
use actix_service::{IntoServiceFactory as _, ServiceFactoryExt as _, fn_factory, map_config};
use actix_web::dev::AppConfig;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, web};
use anyhow::Context as _;
use nosebook_actors::cache::UserCache;
use nosebook_actors::presence::{Announcer, SeenBoard};
use nosebook_actors::threads::Arbiters;
use nosebook_actors::{ChatWriters, PresenceTracker, SessionDirectory};
use nosebook_schema::time::Clock;
use tokio::sync::Notify;

use nosebook_core::avatar_decodes::AvatarDecodes;
use nosebook_core::feed_copier::FeedCopier;
use nosebook_core::limits::Limits;
use nosebook_core::passwords::Passwords;
use nosebook_core::state::AppState;
use nosebook_core::storage::Storage;
use nosebook_notifier::amqp::{AmqpTransport, log_name, spawn_consumer};
use nosebook_notifier::hub::Drain;
use nosebook_notifier::relay::InProcess;
use nosebook_notifier::transport::Transport;
use nosebook_notifier::{Hub, OutboxRelay};
use nosebook_schema::DbPool;
use nosebook_schema::migrate::{redact, run_pending};
use tracing_actix_web::TracingLogger;

use crate::api::input::MAX_COMMAND_BYTES;
use crate::api::{self, auth, service};
use crate::body_timeout::BodyTimeout;
use crate::config::{AppEnv, Settings};
use crate::janitor::Janitor;
use crate::limits::writes::throttle_writes;
use crate::prometheus::{self, Scrape};
use crate::traces::RequestSpan;

/// This node's hub: fed by RabbitMQ when it is configured, else in-process by the relay.
fn start_hub(
    settings: &Settings,
    db: &DbPool,
    presence: &Addr<PresenceTracker>,
    sessions: &Addr<SessionDirectory>,
) -> Addr<Hub> {
    let (presence, sessions) = (presence.clone().recipient(), sessions.clone().recipient());
    match &settings.amqp {
        Some(amqp) => {
            let (amqp, db) = (amqp.clone(), db.clone());
            let window = settings.resume_window;
            Hub::create(move |ctx| {
                let hub = Hub::on_log(&log_name(&amqp), window);
                spawn_consumer(amqp, ctx.address(), window.age, db);
                hub.with_presence(presence).with_sessions(sessions)
            })
        }
        None => Hub::new(settings.resume_window).with_presence(presence).with_sessions(sessions).start(),
    }
}

/// The presence tracker, announcing transitions to friends through the outbox.
fn start_presence(db: &DbPool, clock: Clock, wake: Option<Arc<Notify>>) -> (Addr<PresenceTracker>, SeenBoard) {
    let announcer = Announcer { db: db.clone(), wake };
    let tracker = PresenceTracker::announcing(clock, announcer);
    let board = tracker.board();
    (tracker.start(), board)
}

/// How many times start-up tries to reach the database, a second apart.
const CONNECT_ATTEMPTS: u32 = 5;

/// Connects to the database, retrying briefly; the error names the (password-free) URL.
pub async fn connect(settings: &Settings) -> anyhow::Result<DbPool> {
    DbPool::connect(&settings.pool(), CONNECT_ATTEMPTS)
        .await
        .with_context(|| format!("cannot reach the database at {}", redact(&settings.database_url)))
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<Vec<String>> {
    connect(settings).await?;
    Ok(run_pending(&settings.database_url).await?)
}

/// Connections the kernel queues for the server before it accepts them (capped by
/// `net.core.somaxconn`). `TcpListener::bind` asks for 128: a reconnect storm — every socket of a
/// node that restarted coming back at once — overflows it, and each dropped SYN costs its client
/// a one-second retransmit (BENCHMARKS.md, "A reconnect storm").
const BACKLOG: i32 = 4096;

/// The caller's listener, or one on `NOSEBOOK_LISTEN` with a [`BACKLOG`] for reconnect storms.
fn bind(settings: &Settings, listener: Option<TcpListener>) -> anyhow::Result<TcpListener> {
    match listener {
        Some(listener) => Ok(listener),
        None => {
            let listener =
                TcpListener::bind(&settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
            // Listening again on a listening socket only changes its backlog.
            socket2::SockRef::from(&listener).listen(BACKLOG).context("setting the listen backlog")?;
            Ok(listener)
        }
    }
}

/// This server's own base URL, as a client on this machine reaches it.
fn served_at(listener: &TcpListener) -> anyhow::Result<String> {
    let mut addr = listener.local_addr()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    Ok(format!("http://{addr}"))
}

pub struct Application {
    port: u16,
    server: Server,
    /// This node's sockets, told to go when the node stops.
    hub: Addr<Hub>,
    /// This node's outbox relay, flushed when the node stops (a notifier node has none).
    relay: Option<OutboxRelay>,
    /// How this node's sockets are sent away when it stops.
    drain: Drain,
}

impl Application {
    /// Connects, applies pending migrations, starts the actors and binds the listener.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let db = connect(settings).await?;
        for version in run_pending(&settings.database_url).await? {
            tracing::info!(%version, "migration applied");
        }
        Self::with_pool(settings, db)
    }

    /// Everything but connecting and migrating: tests hand in a pool to their own database.
    pub fn with_pool(settings: &Settings, db: DbPool) -> anyhow::Result<Self> {
        Self::with_listener(settings, db, None)
    }

    /// As [`Application::with_pool`], on a listener the caller prepared (tests shape its sockets).
    pub fn with_listener(settings: &Settings, db: DbPool, listener: Option<TcpListener>) -> anyhow::Result<Self> {
        let listener = bind(settings, listener)?;
        let storage = Storage::open(&settings.storage, &served_at(&listener)?)?;
        // Whatever can fail goes before the first actor starts: an error after it would drop
        // half-started actors while the runtime shuts down, which panics (no reactor running).
        let passwords = Passwords::new()?;
        let clock = settings.clock();
        // Before the first actor: what actors count as they start is recorded too.
        prometheus::install();
        let wake = Arc::new(Notify::new());
        let (presence, seen) = start_presence(&db, clock, Some(wake.clone()));
        // Session and chat actors over one thread per core, not all on this one.
        let threads = Arbiters::per_core();
        let users = UserCache::default();
        let directory = SessionDirectory::new(db.clone(), clock, presence.clone())
            .spread_over(threads.clone())
            .with_user_cache(users.clone());
        let session_board = web::Data::new(directory.board());
        let sessions = directory.start();
        let hub = start_hub(settings, &db, &presence, &sessions);
        let transport: Arc<dyn Transport> = match &settings.amqp {
            Some(amqp) => Arc::new(AmqpTransport::new(amqp.clone())),
            None => Arc::new(InProcess(hub.clone())),
        };
        let relay = OutboxRelay::new(db.clone(), clock, transport, wake);
        relay.clone().spawn_on(threads.pick(0));
        let chats = ChatWriters::start(db.clone(), clock, Arc::new(relay.committed()), &threads);
        Janitor { db: db.clone(), clock, outbox_retention: settings.outbox_retention }.spawn_on(threads.pick(1));
        let feed = FeedCopier::default();
        feed.clone().spawn_on(db.clone(), threads.pick(1));
        let (hub, sessions_data) = (web::Data::new(hub), web::Data::new(sessions.clone()));
        let scrape = web::Data::new(Scrape { db: db.clone(), max_pool: settings.pool_size });
        let limits = Arc::new(Limits::new(&settings.limits));
        let state = web::Data::new(AppState {
            db,
            clock,
            sessions,
            presence,
            seen,
            passwords,
            chats,
            private_chats: Default::default(),
            relay,
            storage,
            users,
            walls: Default::default(),
            typing: Default::default(),
            limits: limits.clone(),
            avatar_decodes: AvatarDecodes::new(settings.avatar_decodes, settings.avatar_wait),
            feed: feed.clone(),
        });
        let relay = state.relay.clone();
        // The use cases' context, and beside it what the middleware and `/ws` read on every
        // node, a notifier node too (which has no use cases): the same session directory and
        // the same limits, not copies.
        let limits = web::Data::from(limits);
        let app = Self::serve(settings, "nosebook", listener, hub.get_ref().clone(), move |cfg| {
            cfg.app_data(state.clone())
                .app_data(hub.clone())
                .app_data(sessions_data.clone())
                .app_data(session_board.clone())
                .app_data(scrape.clone())
                .app_data(limits.clone());
            api::routes(cfg);
            crate::web::routes(cfg);
        })?;
        Ok(Self { relay: Some(relay), ..app })
    }

    /// A notifier node alone (`nosebook notifier`): `/ws` and the probes, sessions checked
    /// against the database, events from RabbitMQ. No handlers, no relay.
    pub async fn notifier(settings: &Settings) -> anyhow::Result<Self> {
        if settings.amqp.is_none() {
            anyhow::bail!("a notifier node receives events through RabbitMQ: set AMQP_URL");
        }
        // Bound before any actor starts: a port that is taken is then a plain error, not actors
        // dropped half-started while the runtime shuts down (which panicked: no reactor).
        let listener = bind(settings, None)?;
        let db = connect(settings).await?;
        let clock = settings.clock();
        prometheus::install();
        // No relay here: the events this node's tracker writes go out with a monolith's relay.
        let (presence, _) = start_presence(&db, clock, None);
        let scrape = web::Data::new(Scrape { db: db.clone(), max_pool: settings.pool_size });
        let directory = SessionDirectory::new(db.clone(), clock, presence.clone());
        let session_board = web::Data::new(directory.board());
        let sessions = directory.start();
        let hub = web::Data::new(start_hub(settings, &db, &presence, &sessions));
        let sessions = web::Data::new(sessions);
        let limits = web::Data::new(Limits::new(&settings.limits));
        Self::serve(settings, "nosebook notifier", listener, hub.get_ref().clone(), move |cfg| {
            cfg.app_data(hub.clone())
                .app_data(sessions.clone())
                .app_data(session_board.clone())
                .app_data(scrape.clone())
                .app_data(limits.clone());
            api::notifier_routes(cfg);
        })
    }

    /// Binds the listener and runs the HTTP server: the middleware every node shares around the
    /// routes `configure` adds.
    fn serve<F>(
        settings: &Settings,
        name: &'static str,
        listener: TcpListener,
        hub: Addr<Hub>,
        configure: F,
    ) -> anyhow::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        prometheus::install();
        let addr = listener.local_addr()?;
        let body_timeout = BodyTimeout(settings.body_timeout);
        // Tests keep the round-trip budget of hot requests with it (`http/round_trips.rs`).
        let count_statements = settings.app_env == AppEnv::Testing;
        let app = move || {
            App::new()
                .configure(configure.clone())
                .wrap(Condition::new(count_statements, from_fn(crate::http::round_trips::count_statements)))
                .wrap(from_fn(throttle_writes))
                .app_data(body_timeout)
                .wrap(from_fn(crate::body_timeout::deadline))
                .wrap(from_fn(auth::resolve_session))
                .wrap(from_fn(api::hygiene::request_rules))
                .wrap(from_fn(prometheus::track_http))
                .wrap(from_fn(crate::traces::trace_id_header))
                .wrap(TracingLogger::<RequestSpan>::new())
                .app_data(web::PayloadConfig::new(MAX_COMMAND_BYTES))
                .default_service(web::to(service::not_found))
        };
        // What `HttpServer` does, plus one thing it cannot: WebSocket upgrades leave actix-http's
        // connection handling once answered (`http/upgrade.rs`). The application's config is
        // the default one: nothing here builds URLs from it, and every request names its host.
        let configured = |app: App<_>| map_config(app.into_factory(), |()| AppConfig::default());
        let mut builder = actix_server::Server::build()
            .workers(settings.workers)
            // SIGTERM and Ctrl-C are ours (see `run_until_signalled`): sockets are told first.
            .disable_signals()
            .shutdown_timeout(settings.drain.as_secs());
        let stopping = builder.graceful_shutdown_signal();
        builder = builder.listen(name, listener, move || {
            let (app, stopping) = (app.clone(), stopping.clone());
            let upgrades = {
                let app = app.clone();
                fn_factory(move || crate::http::upgrade::service(configured(app())))
            };
            HttpService::build()
                // actix-web's defaults, which `HttpServer` would have set.
                .client_request_timeout(Duration::from_secs(5))
                .client_disconnect_timeout(Duration::from_secs(1))
                .local_addr(addr)
                .graceful_shutdown_signal(move || {
                    let stopping = stopping.clone();
                    async move { stopping.notified().await }
                })
                .upgrade(upgrades)
                .finish(configured(app()).map_err(|e: actix_web::Error| e.error_response()))
                .tcp()
        })?;
        let server = builder.run();
        tracing::info!(%addr, env = ?settings.app_env, amqp = settings.amqp.is_some(), "{name} listening");
        // Half the drain time: the sockets' clients are back elsewhere well before requests in
        // flight are cut.
        let drain = Drain { per_second: settings.ws_drain_per_sec, within: settings.drain / 2 };
        Ok(Self { port: addr.port(), server, hub, relay: None, drain })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Serves until SIGTERM or SIGINT, then leaves gracefully: no new connections, every socket
    /// gets a close frame (1012, `service restart`), a few at a time ([`Drain`]), in-flight
    /// requests get the drain time to finish.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let (handle, hub, relay, drain) = (self.server.handle(), self.hub.clone(), self.relay.clone(), self.drain);
        let signalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = actix_web::rt::spawn({
            let signalled = signalled.clone();
            async move {
                if let Err(e) = stop_signal().await {
                    tracing::error!(error = %e, "cannot listen for stop signals");
                    return;
                }
                signalled.store(true, std::sync::atomic::Ordering::SeqCst);
                stop(handle, hub, relay, drain).await;
            }
        });
        let served = self.server.await;
        // The server ends before the stop does (the relay is flushed after the last request):
        // the process waits for it rather than exiting with events unpublished.
        if signalled.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = stopping.await;
        } else {
            stopping.abort();
        }
        served
    }
}

async fn stop_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut term, mut int) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
    Ok(())
}

async fn stop(handle: ServerHandle, hub: Addr<Hub>, relay: Option<OutboxRelay>, drain: Drain) {
    // Sent at once: the listener stops accepting before the sockets are told to go.
    let stopped = handle.stop(true);
    match hub.send(drain).await {
        Ok(told) => tracing::info!(sockets = told, "sockets told to reconnect elsewhere"),
        Err(e) => tracing::warn!(error = %e, "hub gone before shutdown"),
    }
    stopped.await;
    // Every answered send is committed by now; its events go out before the process ends,
    // rather than when their claims run out on another node.
    if let Some(relay) = relay
        && tokio::time::timeout(RELAY_FLUSH, relay.flush()).await.is_err()
    {
        tracing::warn!("outbox relay not flushed in time; its last events go out from another node");
    }
}

/// How long a stopping node waits for its relay to publish what it holds.
const RELAY_FLUSH: std::time::Duration = std::time::Duration::from_secs(10);
