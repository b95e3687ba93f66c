//! Deletes rows that only grow with traffic: events already published (kept a few minutes, see
//! `NOSEBOOK_OUTBOX_RETENTION_SECS`) and sessions past their expiry. Every monolith node runs
//! one; the deletes are idempotent, so several nodes doing the same work only cost a few
//! statements.

use std::time::Duration;

use nosebook_schema::DbPool;
use nosebook_schema::queries::{outbox, sessions};
use nosebook_schema::time::Clock;

/// How often the janitor looks.
const INTERVAL: Duration = Duration::from_secs(60);
/// Rows per delete: short statements that never hold many locks at once.
const BATCH: i64 = 5_000;

#[derive(Clone)]
pub struct Janitor {
    pub db: DbPool,
    pub clock: Clock,
    /// Published events younger than this stay (diagnosis, replays).
    pub outbox_retention: Duration,
}

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub events: usize,
    pub sessions: usize,
}

impl Janitor {
    /// Sweeps every [`INTERVAL`] until the process ends, on `arbiter` (this thread when `None`).
    pub fn spawn_on(self, arbiter: Option<&actix::ArbiterHandle>) {
        let work = async move {
            // The first sweep one interval after start-up: a node that restarts in a loop
            // must not add a sweep per start.
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + INTERVAL, INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.sweep().await {
                    tracing::warn!(error = %e, "janitor: sweep failed; trying again later");
                }
            }
        };
        match arbiter {
            Some(arbiter) => {
                arbiter.spawn(work);
            }
            None => {
                actix::spawn(work);
            }
        }
    }

    /// One sweep: deletes in batches until nothing old is left.
    pub async fn sweep(&self) -> Result<Swept, nosebook_schema::DbError> {
        let mut conn = self.db.get().await?;
        let now = self.clock.now();
        let retention = chrono::Duration::from_std(self.outbox_retention).unwrap_or(chrono::Duration::MAX);
        let published_before = now.checked_sub_signed(retention).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let mut swept = Swept::default();
        loop {
            let gone = outbox::prune_published(&mut conn, published_before, BATCH).await?;
            swept.events += gone;
            if gone < BATCH as usize {
                break;
            }
        }
        loop {
            let gone = sessions::delete_expired(&mut conn, now, BATCH).await?;
            swept.sessions += gone;
            if gone < BATCH as usize {
                break;
            }
        }
        if swept != Swept::default() {
            tracing::debug!(events = swept.events, sessions = swept.sessions, "janitor: swept");
        }
        Ok(swept)
    }
}
