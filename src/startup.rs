//! Building and running the server from [`Settings`]: the one place the pieces are wired together.

use std::net::TcpListener;
use std::sync::Arc;

use actix::Actor;
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use nosebook_actors::{ChatRegistry, PresenceTracker, SessionDirectory};
use nosebook_notifier::relay::InProcess;
use nosebook_notifier::{Hub, OutboxRelay};
use nosebook_schema::DbPool;
use nosebook_schema::migrate::{redact, run_pending};
use tracing_actix_web::TracingLogger;

use crate::api::input::MAX_COMMAND_BYTES;
use crate::api::{self, auth, service};
use crate::config::Settings;
use crate::passwords::Passwords;
use crate::state::AppState;

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

pub struct Application {
    port: u16,
    server: Server,
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
        let clock = settings.clock();
        let presence = PresenceTracker::new(clock).start();
        let sessions = SessionDirectory::new(db.clone(), clock, presence.clone()).start();
        let chats = ChatRegistry::new(db.clone(), clock).start();
        let hub = Hub::new().start();
        let relay = OutboxRelay::new(db.clone(), clock, Arc::new(InProcess(hub.clone())));
        relay.clone().spawn();
        let state = web::Data::new(AppState {
            db,
            clock,
            sessions,
            presence,
            passwords: Passwords::new()?,
            chats,
            hub,
            relay,
        });

        let listener =
            TcpListener::bind(&settings.listen).with_context(|| format!("cannot listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(auth::resolve_session))
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(MAX_COMMAND_BYTES))
                .configure(api::routes)
                .default_service(web::to(service::not_found))
        })
        .workers(settings.workers)
        .listen(listener)?
        .run();
        tracing::info!(%addr, env = ?settings.app_env, "nosebook listening");
        Ok(Self {
            port: addr.port(),
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
