//! Every query timed and traced: diesel's instrumentation hook, installed for every connection
//! the pool opens. The histogram `nosebook_db_query_duration_seconds{statement}` counts by the
//! statement's kind; with trace export on, each query is a `db.query` span (debug level, so that
//! it costs nothing when only logs are on) under its caller's span.
//!
//! [`count_statements`] counts the statements a piece of work sends: the round-trip budget of a
//! request (`X-Db-Statements` in testing, `src/http/round_trips.rs`) is kept by tests with it.

use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Instant;

use diesel::connection::{Instrumentation, InstrumentationEvent};

pub const QUERY_DURATION: &str = "nosebook_db_query_duration_seconds";

tokio::task_local! {
    /// Statements sent by the task running inside [`count_statements`].
    static SENT: Cell<u32>;
}

/// Runs `work` and counts the statements it sends from its own task — a pool checkout's test
/// query included, an actor's or another task's work it waits for not.
pub async fn count_statements<F: Future>(work: F) -> (F::Output, u32) {
    SENT.scope(Cell::new(0), async move {
        let out = work.await;
        (out, SENT.with(Cell::get))
    })
    .await
}

/// Runs the work `start` begins without counting its statements: the pool's upkeep — opening a
/// connection, the test query on one that sat idle — is not the request's that happened to need
/// it (and comes and goes with timing, which a budget test must not see). A function that starts the work, not the work itself: diesel
/// reports a query as started when its future is made, so a future made outside the scope was
/// counted by the request around it.
pub async fn uncounted<F: Future>(start: impl FnOnce() -> F) -> F::Output {
    SENT.scope(Cell::new(0), async move { start().await }).await
}

/// Installs the observer as diesel's default for connections opened from now on.
pub fn install() {
    if let Err(e) = diesel::connection::set_default_instrumentation(|| Some(Box::new(QueryObserver::default()))) {
        tracing::warn!(error = %e, "database queries will not be measured");
    }
}

/// Queries one connection has in flight at most, as far as the observer remembers: diesel-async
/// pipelines a handful; more means some were abandoned without finishing.
const MAX_RUNNING: usize = 64;

#[derive(Default)]
struct QueryObserver {
    /// Queries started and not yet finished, oldest first (a pipelined connection finishes them
    /// in order).
    running: VecDeque<Running>,
    /// A query on this connection failed because the connection is gone: the pool must not
    /// hand it out again.
    lost: bool,
}

struct Running {
    started: Instant,
    kind: &'static str,
    span: tracing::Span,
}

impl Instrumentation for QueryObserver {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                // Outside `count_statements` there is nothing to count.
                let _ = SENT.try_with(|sent| sent.set(sent.get() + 1));
                let mut head = Head::default();
                // Stops early: only the first word is kept.
                let _ = write!(head, "{query}");
                let kind = head.kind();
                let span = tracing::debug_span!("db.query", db.operation = kind, db.statement = tracing::field::Empty);
                if !span.is_disabled() {
                    // Without the bind values: they hold user data.
                    let mut sql = String::new();
                    let _ = write!(sql, "{query}");
                    span.record("db.statement", sql.split(" -- binds:").next().unwrap_or_default());
                }
                // A query whose future was dropped never finishes here; its entry must not stay
                // on a pooled connection for good.
                if self.running.len() >= MAX_RUNNING {
                    self.running.pop_front();
                }
                self.running.push_back(Running { started: Instant::now(), kind, span });
            }
            InstrumentationEvent::FinishQuery { error, .. } => {
                if let Some(running) = self.running.pop_front() {
                    metrics::histogram!(QUERY_DURATION, "statement" => running.kind)
                        .record(running.started.elapsed().as_secs_f64());
                    if let Some(error) = error {
                        running.span.in_scope(|| tracing::debug!(%error, "query failed"));
                    }
                }
                if error.is_some_and(crate::pool::lost_connection) {
                    self.lost = true;
                }
            }
            _ => {}
        }
    }
}

/// Whether a query on `conn` found it lost; `None` when that cannot be told (the connection has
/// no observer, or its instrumentation is in use by a query still pending).
pub(crate) fn found_lost(conn: &mut diesel_async::AsyncPgConnection) -> Option<bool> {
    use diesel_async::AsyncConnection;
    // diesel-async panics if a query future that was never driven to its end still shares the
    // instrumentation; such a connection is simply tested the slow way.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        conn.instrumentation().downcast_ref::<QueryObserver>().map(|observer| observer.lost)
    }))
    .ok()
    .flatten()
}

/// The first few bytes of a statement; writing more fails, which ends the formatting.
#[derive(Default)]
struct Head {
    bytes: [u8; 8],
    len: usize,
}

impl std::fmt::Write for Head {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            if self.len == self.bytes.len() {
                return Err(std::fmt::Error);
            }
            self.bytes[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

impl Head {
    fn kind(&self) -> &'static str {
        let head = &self.bytes[..self.len];
        let word = head.iter().position(|b| !b.is_ascii_alphabetic()).map_or(head, |end| &head[..end]);
        match word.to_ascii_uppercase().as_slice() {
            b"SELECT" | b"WITH" => "select",
            b"INSERT" => "insert",
            b"UPDATE" => "update",
            b"DELETE" => "delete",
            _ => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_classified_by_their_first_word() {
        for (sql, kind) in [
            ("SELECT \"users\".\"id\" FROM", "select"),
            ("insert into x", "insert"),
            ("UPDATE", "update"),
            ("DELETE FROM t", "delete"),
            ("BEGIN", "other"),
            ("", "other"),
        ] {
            let mut head = Head::default();
            let _ = write!(head, "{sql}");
            assert_eq!(head.kind(), kind, "{sql}");
        }
    }
}
