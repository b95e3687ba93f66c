//! Keeps the kept feeds of News (migration `stored_feeds`): copies each new post into its readers'
//! feeds, and builds the feeds of readers who came back. One per node; several nodes share the
//! work through `SKIP LOCKED`, and whatever a crashed node left is taken by the next look.
//!
//! Woken by this node's posts as they commit; it also looks every [`LOOK_EVERY`] for posts other
//! nodes, or a node that died, left behind.

use std::sync::Arc;
use std::time::Duration;

use nosebook_events::wire::WireTime;
use nosebook_events::{Event, FeedPost};
use nosebook_schema::queries::feed::{self, CopiedPost};
use nosebook_schema::{AsyncConnection, AsyncPgConnection, DbError, DbPool};
use tokio::sync::Notify;

/// How often the copier looks for work nobody woke it for.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// Posts per transaction: a post with thousands of readers is thousands of rows.
const POSTS_PER_COPY: i64 = 20;

/// The handle the use cases wake the copier with.
#[derive(Clone, Default)]
pub struct FeedCopier {
    wake: Arc<Notify>,
}

/// What one look did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Copied {
    posts: usize,
    built: usize,
}

impl FeedCopier {
    /// A post committed, or a reader asked for their feed to be kept: look now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs [`Self::run`] on `arbiter` (this thread when `None`).
    pub fn spawn_on(self, db: DbPool, arbiter: Option<&actix::ArbiterHandle>) {
        nosebook_actors::threads::spawn_on(arbiter, self.run(db));
    }

    /// Copies and builds until the database has nothing waiting, then sleeps until woken or
    /// [`LOOK_EVERY`] passes. Runs until the process ends.
    pub async fn run(self, db: DbPool) {
        loop {
            match drain(&db).await {
                Ok(done) if done != Copied::default() => {
                    tracing::debug!(posts = done.posts, built = done.built, "feed copier: copied");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "feed copier: failed; trying again shortly"),
            }
            let _ = tokio::time::timeout(LOOK_EVERY, self.wake.notified()).await;
        }
    }
}

/// Everything waiting now: posts to copy first (readers see them), then feeds to build.
async fn drain(db: &DbPool) -> Result<Copied, DbError> {
    let mut conn = db.get().await?;
    let mut done = Copied::default();
    loop {
        let posts = conn.transaction(async |conn| copy_and_tell(conn).await).await?;
        done.posts += posts;
        if posts > 0 {
            continue;
        }
        if conn.transaction(async |conn| feed::build_one(conn).await).await? {
            done.built += 1;
            continue;
        }
        return Ok(done);
    }
}

/// Copies a batch of posts, and tells each reader who got one, in the same transaction (so that a
/// reader told of a post finds it in their feed, and none is told twice).
async fn copy_and_tell(conn: &mut AsyncPgConnection) -> Result<usize, DbError> {
    let copied = feed::copy_posts(conn, POSTS_PER_COPY).await?;
    for post in &copied {
        let CopiedPost { id, author_id, owner_id, created_at, readers } = post;
        // The author's own tab shows what it wrote itself.
        let friends: Vec<_> = readers.iter().copied().filter(|r| r != author_id).collect();
        let event = Event::FeedPost(FeedPost {
            id: id.0,
            author_id: author_id.0,
            owner_id: owner_id.0,
            created_at: WireTime(*created_at),
        });
        event.queue(conn, &friends).await?;
    }
    Ok(copied.len())
}
