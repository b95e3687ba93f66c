//! Deletes rows that only grow with traffic: events already published (kept a few minutes, see
//! `NOSEBOOK_OUTBOX_RETENTION_SECS`), sessions past their expiry, the rows of kept feeds past the
//! newest they keep, and the feeds of readers who stopped reading them. Every monolith node runs
//! one; the deletes are idempotent, so several nodes doing the same work only cost a few
//! statements.

use std::time::Duration;

use nosebook_schema::DbPool;
use nosebook_schema::queries::{feed, outbox, sessions};
use nosebook_schema::time::Clock;

/// How often the janitor looks.
const INTERVAL: Duration = Duration::from_secs(60);
/// Rows per delete: short statements that never hold many locks at once.
const BATCH: i64 = 5_000;
/// Kept feeds trimmed per statement (each up to a few hundred rows).
const FEEDS_PER_TRIM: i64 = 200;
/// A feed nobody read for this long stops being kept: its reader is away, and copying posts for
/// them costs every post their friends write.
const FEED_UNREAD_FOR: chrono::Duration = chrono::Duration::days(14);

/// Runs `$delete` (a delete of at most `$batch` rows, answering how many) until one deletes
/// fewer: the rows deleted in all. A macro, not a function taking a closure: the delete borrows the
/// sweep's connection anew each time.
macro_rules! in_batches {
    ($batch:expr, $delete:expr) => {{
        let mut total = 0;
        loop {
            let gone: usize = $delete;
            total += gone;
            if gone < usize::try_from($batch).unwrap_or(usize::MAX) {
                break total;
            }
        }
    }};
}

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
    /// Feeds no longer kept.
    pub feeds: usize,
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
        nosebook_actors::threads::spawn_on(arbiter, work);
    }

    /// One sweep: deletes in batches until nothing old is left.
    pub async fn sweep(&self) -> Result<Swept, nosebook_schema::DbError> {
        let mut conn = self.db.get().await?;
        let now = self.clock.now();
        let retention = chrono::Duration::from_std(self.outbox_retention).unwrap_or(chrono::Duration::MAX);
        let published_before = now.checked_sub_signed(retention).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let events = in_batches!(BATCH, outbox::prune_published(&mut conn, published_before, BATCH).await?);
        let sessions = in_batches!(BATCH, sessions::delete_expired(&mut conn, now, BATCH).await?);
        let mut after = None;
        while let Some(last) = feed::trim(&mut conn, after, FEEDS_PER_TRIM).await? {
            after = Some(last);
        }
        let unread_since = now.checked_sub_signed(FEED_UNREAD_FOR).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        let feeds = in_batches!(FEEDS_PER_TRIM, feed::drop_unread(&mut conn, unread_since, FEEDS_PER_TRIM).await?);
        let swept = Swept { events, sessions, feeds };
        if swept != Swept::default() {
            tracing::debug!(events = swept.events, sessions = swept.sessions, feeds = swept.feeds, "janitor: swept");
        }
        Ok(swept)
    }
}
