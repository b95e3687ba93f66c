//! The one way to reach PostgreSQL: a deadpool of diesel-async connections with timeouts on every
//! step, so a request never waits forever for a connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{Manager, Metrics, Object, Pool, RecycleError, RecycleResult};
use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::PoolError;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, PoolableConnection};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

pub type DbConn = Object<PgManager>;

/// Why a database call failed. Callers above this crate see only this.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    // No `#[source]`: the pool nests the same text several times; the root cause says it all.
    #[error("no database connection: {}", root_cause(.0))]
    Unavailable(PoolError),
    /// A connection of its own ([`DbPool::dedicated`]) could not be opened.
    #[error("no database connection: {0}")]
    Connect(#[from] ConnectionError),
    #[error("database pool misconfigured: {0}")]
    Config(String),
    /// The task doing the work ended before it answered (it panicked, or its thread stopped).
    #[error("database work interrupted: {0}")]
    Interrupted(&'static str),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    /// One failure answered to several callers (the senders of a batch written together).
    #[error(transparent)]
    Shared(Arc<DbError>),
}

impl From<PoolError> for DbError {
    fn from(e: PoolError) -> Self {
        Self::Unavailable(e)
    }
}

impl DbError {
    /// The failure itself, however many callers share it.
    fn root(&self) -> &Self {
        match self {
            Self::Shared(e) => e.root(),
            e => e,
        }
    }

    /// True when no connection could be had at all.
    pub fn is_unavailable(&self) -> bool {
        matches!(self.root(), Self::Unavailable(_) | Self::Connect(_))
    }

    /// True when a referenced row does not exist.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(
            self.root(),
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                _
            ))
        )
    }

    /// True when PostgreSQL refused a text value it cannot store (NUL, U+0000): the input's
    /// fault, whichever path let it through.
    pub fn is_unstorable_text(&self) -> bool {
        matches!(
            self.root(),
            Self::Query(diesel::result::Error::DatabaseError(_, info))
                if info.message().starts_with("invalid byte sequence for encoding")
        )
    }

    /// True when the connection went away under a query (the server restarted, or ended the
    /// backend): nothing was decided, and a retry on another connection may well succeed.
    pub fn is_connection_lost(&self) -> bool {
        matches!(self.root(), Self::Query(e) if lost_connection(e))
    }

    /// True for a unique-constraint violation: the caller lost a race or repeated a write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self.root(),
            Self::Query(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
        )
    }
}

/// True when the connection went away under a query: the client found it closed, or the server's
/// goodbye arrived as the answer to a query in flight (SQLSTATE 57P01–57P03: ended by an
/// administrator, a crash, or a shutdown).
pub(crate) fn lost_connection(e: &diesel::result::Error) -> bool {
    use diesel::result::DatabaseErrorKind::{ClosedConnection, UnableToSendCommand};
    match e {
        diesel::result::Error::DatabaseError(ClosedConnection | UnableToSendCommand, _) => true,
        diesel::result::Error::DatabaseError(_, info) => info.message().starts_with("terminating connection"),
        _ => false,
    }
}

/// The innermost cause: pool errors nest the same text several times.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub url: String,
    pub max_size: usize,
    /// How long a caller waits for a free connection, and for a new one to be opened.
    pub timeout: Duration,
}

/// Pool status, for readiness and metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolStatus {
    pub size: usize,
    pub available: usize,
    pub waiting: usize,
}

/// A transaction left open this long by its client is ended by PostgreSQL, which rolls it back
/// and closes the connection. Nosebook never waits for anything but the database inside a
/// transaction, so only a client that stopped driving one (a future dropped or starved halfway)
/// gets here; without this bound its row locks would stall every writer of those rows for as
/// long as the connection lives.
pub const IDLE_IN_TRANSACTION_TIMEOUT: &str = "30s";

/// The planner's cost of reading a page out of order, against 1.0 in order. PostgreSQL's default
/// (4.0) prices a disk that seeks; Nosebook's data is read from memory or SSD, where the default
/// makes a few hundred index lookups (a person's chats among everyone's) look dearer than
/// scanning a whole table, and the planner then scans it.
pub const RANDOM_PAGE_COST: &str = "1.1";

/// PostgreSQL compiles a statement it prices above `jit_above_cost` to machine code before running
/// it. For Nosebook's statements — each a few milliseconds at most, the dearest (people search)
/// priced high only for branches it never runs — the compilation costs many times the run.
pub const JIT: &str = "off";

/// Opens a connection and sets the session settings every pooled connection carries. The
/// pool's upkeep, like its test query: not counted as statements of the request that happened to
/// need a new connection (`observe::uncounted`).
fn establish(url: &str) -> Pin<Box<dyn Future<Output = Result<AsyncPgConnection, ConnectionError>> + Send + '_>> {
    Box::pin(crate::observe::uncounted(move || async move {
        let mut conn = AsyncPgConnection::establish(url).await?;
        conn.batch_execute(&format!(
            "SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}'; \
             SET random_page_cost = {RANDOM_PAGE_COST}; \
             SET jit = {JIT}"
        ))
        .await
        .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    }))
}

/// A connection handed out again within this long of its last checkout is trusted without a
/// test query (HikariCP's "alive bypass window"): on a busy server connections are reused every
/// few milliseconds, and a test query on each checkout was a round trip on every request.
const TRUSTED_FOR: Duration = Duration::from_millis(500);

/// diesel-async's connection manager, with a cheaper checkout. A connection is tested with
/// `SELECT 1` only when it sat unused for longer than [`TRUSTED_FOR`]; one that the client
/// flagged closed, or whose last query found it lost ([`observe::found_lost`]), is dropped — the
/// client does not always flag a connection the server ended by itself, but the query that
/// met the end always fails as lost, so no ended connection is handed out twice.
pub struct PgManager(AsyncDieselConnectionManager<AsyncPgConnection>);

impl Manager for PgManager {
    type Type = AsyncPgConnection;
    type Error = diesel_async::pooled_connection::PoolError;

    async fn create(&self) -> Result<AsyncPgConnection, Self::Error> {
        self.0.create().await
    }

    async fn recycle(&self, conn: &mut AsyncPgConnection, metrics: &Metrics) -> RecycleResult<Self::Error> {
        if std::thread::panicking() || conn.is_broken() {
            return Err(RecycleError::message("connection closed"));
        }
        match crate::observe::found_lost(conn) {
            Some(true) => return Err(RecycleError::message("its last query found the connection lost")),
            Some(false) if metrics.last_used() < TRUSTED_FOR => return Ok(()),
            _ => {}
        }
        crate::observe::uncounted(|| diesel::sql_query("SELECT 1").execute(conn))
            .await
            .map_err(|e| RecycleError::Backend(diesel_async::pooled_connection::PoolError::QueryError(e)))?;
        Ok(())
    }
}

/// Connections a started node opens before it serves, so that its first requests do not each
/// wait for a connection to be established and set up.
const WARM_CONNECTIONS: usize = 4;

/// Plans (never runs) one statement over every table of the database. A new PostgreSQL backend
/// reads a table's and its indexes' catalog entries the first time a statement touches it —
/// several milliseconds for a page that joins a few tables — so a node's first requests paid
/// it; planning loads them all at once, before the node serves. The tables are listed from the
/// catalog, so that a table added later is warmed too.
pub const WARM_UP: &str = "DO $$ DECLARE tables text; BEGIN \
    SELECT string_agg(format('%I.%I', schemaname, relname), ', ') INTO tables FROM pg_stat_user_tables; \
    IF tables IS NOT NULL THEN EXECUTE 'EXPLAIN SELECT FROM ' || tables || ' WHERE false'; END IF; \
    END $$";

#[derive(Clone)]
pub struct DbPool {
    inner: Pool<PgManager>,
    url: Arc<str>,
}

impl DbPool {
    /// Builds the pool without connecting; connections open on first use.
    pub fn new(settings: &PoolSettings) -> Result<Self, DbError> {
        crate::observe::install();
        let mut config = ManagerConfig::default();
        config.custom_setup = Box::new(establish);
        let manager = PgManager(AsyncDieselConnectionManager::new_with_config(&settings.url, config));
        let inner = Pool::builder(manager)
            .max_size(settings.max_size)
            // The connection used last goes out first: busy connections stay within the
            // trusted window, idle ones age and get tested (or time out) instead.
            .queue_mode(deadpool::managed::QueueMode::Lifo)
            .wait_timeout(Some(settings.timeout))
            .create_timeout(Some(settings.timeout))
            .recycle_timeout(Some(settings.timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Config(e.to_string()))?;
        Ok(Self { inner, url: settings.url.as_str().into() })
    }

    pub async fn get(&self) -> Result<DbConn, DbError> {
        Ok(self.inner.get().await?)
    }

    /// A connection of its own, outside the pool, with the pool's settings: for a listener
    /// (`LISTEN`) that holds its connection for the life of the process.
    pub async fn dedicated(&self) -> Result<AsyncPgConnection, DbError> {
        Ok(establish(&self.url).await?)
    }

    /// One round trip to the server: readiness checks and start-up use it.
    pub async fn ping(&self) -> Result<(), DbError> {
        let mut conn = self.get().await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await?;
        Ok(())
    }

    /// Start-up: try for a few seconds before giving up, so that a server starting together with
    /// its database does not fail at once.
    pub async fn connect(settings: &PoolSettings, attempts: u32) -> Result<Self, DbError> {
        let pool = Self::new(settings)?;
        let mut attempt = 1;
        loop {
            match pool.ping().await {
                Ok(()) => {
                    pool.warm(WARM_CONNECTIONS.min(settings.max_size)).await;
                    return Ok(pool);
                }
                Err(e) if attempt >= attempts => return Err(e),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "database not reachable yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    attempt += 1;
                }
            }
        }
    }

    /// Opens up to `count` connections, has each plan [`WARM_UP`], and leaves them idle in the
    /// pool. One that fails opens on first use instead, as without this.
    async fn warm(&self, count: usize) {
        let held = futures_util::future::join_all((0..count).map(|_| self.inner.get())).await;
        let planned = held.into_iter().flatten().map(|mut conn| async move {
            if let Err(e) = crate::observe::uncounted(|| conn.batch_execute(WARM_UP)).await {
                tracing::warn!(error = %e, "warming a database connection failed; its first requests read the catalog");
            }
        });
        futures_util::future::join_all(planned).await;
    }

    pub fn status(&self) -> PoolStatus {
        let s = self.inner.status();
        PoolStatus { size: s.size, available: s.available, waiting: s.waiting }
    }
}
