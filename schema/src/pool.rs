//! The one way to reach PostgreSQL: a deadpool of diesel-async connections with timeouts on every
//! step, so a request never waits forever for a connection.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use diesel::ConnectionError;
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

pub type DbConn = Object<AsyncPgConnection>;

/// Why a database call failed. Callers above this crate see only this.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    // No `#[source]`: the pool nests the same text several times; the root cause says it all.
    #[error("no database connection: {}", root_cause(.0))]
    Unavailable(PoolError),
    #[error("database pool misconfigured: {0}")]
    Config(String),
    /// The task doing the work ended before it answered (it panicked, or its thread stopped).
    #[error("database work interrupted: {0}")]
    Interrupted(&'static str),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl From<PoolError> for DbError {
    fn from(e: PoolError) -> Self {
        Self::Unavailable(e)
    }
}

impl DbError {
    /// True when a referenced row does not exist.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(
            self,
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
            self,
            Self::Query(diesel::result::Error::DatabaseError(_, info))
                if info.message().starts_with("invalid byte sequence for encoding")
        )
    }

    /// True when the connection went away under a query (the server restarted, or ended the
    /// backend): nothing was decided, and a retry on another connection may well succeed.
    pub fn is_connection_lost(&self) -> bool {
        use diesel::result::DatabaseErrorKind::{ClosedConnection, UnableToSendCommand};
        match self {
            Self::Query(diesel::result::Error::DatabaseError(ClosedConnection | UnableToSendCommand, _)) => true,
            // The server's goodbye, when it arrives as the answer to a query in flight
            // (SQLSTATE 57P01–57P03: ended by an administrator, a crash, or a shutdown).
            Self::Query(diesel::result::Error::DatabaseError(_, info)) => {
                info.message().starts_with("terminating connection")
            }
            _ => false,
        }
    }

    /// True for a unique-constraint violation: the caller lost a race or repeated a write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _))
        )
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

/// Opens a connection and sets the session settings every pooled connection carries.
fn establish(url: &str) -> Pin<Box<dyn Future<Output = Result<AsyncPgConnection, ConnectionError>> + Send + '_>> {
    Box::pin(async move {
        let mut conn = AsyncPgConnection::establish(url).await?;
        conn.batch_execute(&format!("SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_TIMEOUT}'"))
            .await
            .map_err(ConnectionError::CouldntSetupConfiguration)?;
        Ok(conn)
    })
}

#[derive(Clone)]
pub struct DbPool {
    inner: Pool<AsyncPgConnection>,
}

impl DbPool {
    /// Builds the pool without connecting; connections open on first use.
    pub fn new(settings: &PoolSettings) -> Result<Self, DbError> {
        crate::observe::install();
        let mut config = ManagerConfig::default();
        config.custom_setup = Box::new(establish);
        // Every checkout asks `SELECT 1` first (`Verified`, the default). `Fast` would save that
        // round trip, but a connection the server ended is not reliably flagged closed by the
        // client (seen in `a_connection_ended_in_use_is_reported_lost_and_not_reused`): the pool
        // would hand it out again and again. Issue 13 replaces this with a check only for
        // connections idle for a while, and discards a connection whose query found it lost.
        config.recycling_method = RecyclingMethod::Verified;
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(&settings.url, config);
        let inner = Pool::builder(manager)
            .max_size(settings.max_size)
            .wait_timeout(Some(settings.timeout))
            .create_timeout(Some(settings.timeout))
            .recycle_timeout(Some(settings.timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Config(e.to_string()))?;
        Ok(Self { inner })
    }

    pub async fn get(&self) -> Result<DbConn, DbError> {
        Ok(self.inner.get().await?)
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
                Ok(()) => return Ok(pool),
                Err(e) if attempt >= attempts => return Err(e),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "database not reachable yet; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    attempt += 1;
                }
            }
        }
    }

    pub fn status(&self) -> PoolStatus {
        let s = self.inner.status();
        PoolStatus { size: s.size, available: s.available, waiting: s.waiting }
    }
}
