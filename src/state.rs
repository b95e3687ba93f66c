//! What every handler shares: the pool, the clock, the actors and the password service.

use actix::Addr;
use nosebook_actors::cache::PrivateChats;
use nosebook_actors::cache::UserCache;
use nosebook_actors::presence::SeenBoard;
use nosebook_actors::{ChatWriters, PresenceTracker, SessionDirectory};
use nosebook_notifier::{Hub, OutboxRelay};
use nosebook_schema::ids::UserId;
use nosebook_schema::models::UserRow;
use nosebook_schema::time::Clock;
use nosebook_schema::{AsyncPgConnection, DbConn, DbError, DbPool};

use crate::avatar_decodes::AvatarDecodes;
use crate::passwords::Passwords;
use crate::storage::Storage;
use nosebook_events::wire;

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
    /// This node's WebSocket connections.
    pub hub: Addr<Hub>,
    pub relay: OutboxRelay,
    /// Avatars.
    pub storage: Storage,
    /// Users recently read (names, avatars; activity is overlaid from presence).
    pub users: UserCache,
    /// Who was just told to be typing where.
    pub typing: crate::core::typing::Throttle,
    /// Walls' first pages, served while their version is unchanged.
    pub walls: crate::core::walls::WallCache,
    /// Limits on abuse kept in this node's memory.
    pub limits: actix_web::web::Data<crate::limits::Limits>,
    /// Turns at decoding an uploaded avatar.
    pub avatar_decodes: AvatarDecodes,
}

impl AppState {
    /// A pooled connection for a change that may queue events (see [`ChangeConn`]).
    pub async fn change_conn(&self) -> Result<ChangeConn, DbError> {
        Ok(ChangeConn { conn: self.db.get().await?, relay: self.relay.clone() })
    }

    /// Public user objects, with the freshest activity this node knows: the database is written
    /// at most every few seconds per session, the presence tracker has the exact value.
    pub fn present_users(&self, mut rows: Vec<UserRow>) -> Vec<wire::User> {
        let ids: Vec<UserId> = rows.iter().map(|r| r.id).collect();
        let seen = self.seen.last_seen(&ids);
        for row in &mut rows {
            if let Some(at) = seen.get(&row.id) {
                row.last_activity_at = row.last_activity_at.max(*at);
            }
        }
        let now = self.clock.now();
        rows.into_iter().map(|row| wire::User::new(row, now)).collect()
    }

    pub fn present_user(&self, row: UserRow) -> Option<wire::User> {
        self.present_users(vec![row]).pop()
    }

    /// The caller of the request being served, as others see them: active now — which is what
    /// asking the presence tracker would answer, without the hop to it.
    pub fn present_caller(&self, row: UserRow) -> wire::User {
        wire::User::active_at(row, self.clock.now())
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
