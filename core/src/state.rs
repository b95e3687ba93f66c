//! What every use case shares — the pool, the clock, the actors, the password service, the
//! caches and the limits — handed to each one as its context. The doors hold it as application
//! data (`startup.rs`) and pass it on.

use std::sync::Arc;

use actix::Addr;
use nosebook_actors::cache::PrivateChats;
use nosebook_actors::cache::UserCache;
use nosebook_actors::presence::SeenBoard;
use nosebook_actors::{ChatWriters, PresenceTracker, SessionDirectory};
use nosebook_notifier::OutboxRelay;
use nosebook_schema::time::Clock;
use nosebook_schema::{AsyncPgConnection, DbConn, DbError, DbPool};

use crate::avatar_decodes::AvatarDecodes;
use crate::limits::Limits;
use crate::passwords::Passwords;
use crate::storage::Storage;

pub struct AppState {
    pub db: DbPool,
    pub clock: Clock,
    pub sessions: Addr<SessionDirectory>,
    pub presence: Addr<PresenceTracker>,
    /// The presence tracker's last activity per user, read without asking it.
    pub seen: SeenBoard,
    pub passwords: Passwords,
    pub chats: ChatWriters,
    /// Each pair's private chat, once it exists.
    pub private_chats: PrivateChats,
    pub relay: OutboxRelay,
    /// Avatars.
    pub storage: Storage,
    /// Users recently read (names, avatars; activity is overlaid from presence).
    pub users: UserCache,
    /// Who was just told to be typing where.
    pub typing: crate::caches::Throttle,
    /// Walls' first pages, served while their version is unchanged.
    pub walls: crate::caches::WallCache,
    /// Limits on abuse kept in this node's memory; the write throttle and the socket upgrade
    /// count in the same ones.
    pub limits: Arc<Limits>,
    /// Turns at decoding an uploaded avatar.
    pub avatar_decodes: AvatarDecodes,
    /// Copies new posts into the feeds kept for their readers.
    pub feed: crate::feed_copier::FeedCopier,
}

impl AppState {
    /// A pooled connection for a change that may queue events (see [`ChangeConn`]).
    pub async fn change_conn(&self) -> Result<ChangeConn, DbError> {
        Ok(ChangeConn { conn: self.db.get().await?, relay: self.relay.clone() })
    }
}

/// The connection a use case makes a change on. When it goes back to the pool — after the
/// change's transaction committed (or failed) — the outbox relay is woken, so the events the change
/// queued go out at once instead of at the relay's next poll: the after-commit step is the
/// connection's, and no use case can forget it. A change that queued nothing costs the relay
/// one look at an empty outbox.
pub struct ChangeConn {
    conn: DbConn,
    relay: OutboxRelay,
}

impl std::ops::Deref for ChangeConn {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for ChangeConn {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        &mut self.conn
    }
}

impl Drop for ChangeConn {
    fn drop(&mut self) {
        self.relay.wake();
    }
}
