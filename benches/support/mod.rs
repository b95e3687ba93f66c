//! What the benches share: an actix system as criterion's executor, and a fresh bench database.

#![allow(dead_code)]

use std::future::Future;

use criterion::async_executor::AsyncExecutor;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Criterion drives the futures on an actix system, where the actors live (as in the server).
pub struct Actix<'a>(pub &'a actix::SystemRunner);

impl AsyncExecutor for Actix<'_> {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        self.0.block_on(future)
    }
}

/// Recreates `nosebook_bench` on `server`, migrated and with the compat seed; returns its URL.
/// Benches that use it must not run at the same time.
pub async fn prepare(server: &str) -> Result<String, String> {
    let mut admin = AsyncPgConnection::establish(&format!("{server}/postgres")).await.map_err(|e| e.to_string())?;
    for sql in ["DROP DATABASE IF EXISTS nosebook_bench WITH (FORCE)", "CREATE DATABASE nosebook_bench"] {
        diesel::sql_query(sql).execute(&mut admin).await.map_err(|e| e.to_string())?;
    }
    let url = format!("{server}/nosebook_bench");
    nosebook_schema::migrate::run_pending(&url).await.map_err(|e| e.to_string())?;
    let mut conn = AsyncPgConnection::establish(&url).await.map_err(|e| e.to_string())?;
    nosebook::seed::compat::load(&mut conn).await.map_err(|e| e.to_string())?;
    Ok(url)
}
