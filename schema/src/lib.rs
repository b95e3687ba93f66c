//! Nosebook's persistence layer: the Diesel schema of `migrations/`, typed ids, rows, the queries
//! the services compose, the connection pool and the clock.
//!
//! Queries are plain async functions over `&mut AsyncPgConnection`: the caller decides whether
//! they run on a pooled connection or inside a transaction.

pub mod ids;
pub mod migrate;
pub mod models;
pub mod observe;
pub mod paging;
pub mod pool;
pub mod queries;
pub mod schema;
pub mod time;

pub use diesel_async::{AsyncConnection, AsyncPgConnection};
pub use pool::{DbConn, DbError, DbPool, PoolSettings};
