//! Who is online, and telling friends when that changes (docs/API.md §4 and the `presence` event).
//!
//! Online means at least one live socket on any node, or activity within five minutes. The
//! database's `users.last_activity_at` is the shared record; the tracker
//!
//! - holds the exact last activity of users active on this node (user objects built here show
//!   it before the coalesced write lands),
//! - keeps users with a socket on this node active, writing their activity every
//!   [`SOCKET_REFRESH`] so every node sees them online while the socket lives,
//! - announces transitions: a user it sees become active is claimed online in the database
//!   (`presence_announced` flips once, so one node announces), and a periodic sweep claims the
//!   users whose activity aged out as offline. Each claim queues a `presence` event for the
//!   user's friends in the same transaction; routing delivers it to those who are connected.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use nosebook_events::wire::WireTime;
use nosebook_events::{Event, PresenceChange, SocketsChanged};
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::{friendship, presence, users};
use nosebook_schema::time::{Clock, ONLINE_WINDOW, is_online};
use nosebook_schema::{AsyncConnection, AsyncPgConnection, DbError, DbPool};
use nosebook_telemetry::metrics::Counted;
use tokio::sync::Notify;

use crate::batch::take_batch;
use crate::board::Board;

/// How often the tracker drops quiet users and sweeps for offline transitions.
const SWEEP_INTERVAL: Duration = Duration::from_secs(2);
/// How often users with a socket on this node are written as active.
pub const SOCKET_REFRESH: Duration = Duration::from_secs(60);

/// Most users claimed online in one transaction.
const ANNOUNCE_BATCH: usize = 1_000;
/// How long a claim that failed (the database away, the pool exhausted) waits before it is
/// tried again with the same users.
const ANNOUNCE_RETRY: Duration = Duration::from_secs(1);

/// The tracker's name in the mailbox-depth metric.
pub const MAILBOX: &str = "presence";

/// Where transitions are written, and who to tell that events were committed.
#[derive(Clone)]
pub struct Announcer {
    pub db: DbPool,
    /// Woken when transitions were committed, so the outbox relay publishes them at once
    /// (`None`: they wait for its next poll).
    pub wake: Option<Arc<Notify>>,
}

impl Announcer {
    fn committed(&self) {
        if let Some(wake) = &self.wake {
            wake.notify_one();
        }
    }

    /// Queues a `presence` event for the friends of each user in `changes` (who, since when).
    async fn tell_friends(
        &self,
        conn: &mut AsyncPgConnection,
        changes: &[(UserId, DateTime<Utc>)],
        online: bool,
    ) -> Result<(), DbError> {
        let users: Vec<UserId> = changes.iter().map(|(user, _)| *user).collect();
        let mut friends: HashMap<UserId, Vec<UserId>> = HashMap::new();
        for (user, friend) in friendship::friends_of_many(conn, &users).await? {
            friends.entry(user).or_default().push(friend);
        }
        for (user, at) in changes {
            let Some(friends) = friends.get(user) else { continue };
            let change = PresenceChange { user_id: user.0, online, last_online_at: WireTime(*at) };
            Event::Presence(change).queue_traced(conn, friends, None).await?;
        }
        Ok(())
    }

    /// Claims online the users of `seen` (who, the activity that brought them online: the
    /// database may not have it yet, activity writes are coalesced) in one transaction.
    async fn online(self, seen: HashMap<UserId, DateTime<Utc>>) -> Result<(), DbError> {
        let mut conn = self.db.get().await?;
        let users: Vec<UserId> = seen.keys().copied().collect();
        let announced = conn
            .transaction(async |conn| {
                let mut claimed = presence::claim_online(conn, &users).await?;
                for (user, stored) in &mut claimed {
                    *stored = (*stored).max(seen.get(user).copied().unwrap_or(*stored));
                }
                self.tell_friends(conn, &claimed, true).await?;
                Ok::<_, DbError>(claimed.len())
            })
            .await?;
        if announced > 0 {
            self.committed();
        }
        Ok(())
    }

    async fn sweep_offline(self, cutoff: DateTime<Utc>) -> Result<(), DbError> {
        let mut conn = self.db.get().await?;
        let gone = conn
            .transaction(async |conn| {
                let gone = presence::claim_offline(conn, cutoff).await?;
                self.tell_friends(conn, &gone, false).await?;
                Ok::<_, DbError>(gone.len())
            })
            .await?;
        if gone > 0 {
            self.committed();
        }
        Ok(())
    }

    async fn refresh(self, users: Vec<UserId>, at: DateTime<Utc>) -> Result<(), DbError> {
        let mut conn = self.db.get().await?;
        // Connected users count as active: their sockets keep them online on every node.
        Ok(users::record_activity(&mut conn, &users, at).await?)
    }
}

/// The tracker's last activity per user, which every page that shows people overlays: read
/// without a hop to the tracker. Only the tracker writes it.
pub type SeenBoard = Board<UserId, DateTime<Utc>>;

impl SeenBoard {
    /// The last activity this node has seen for each of `users`, where it has seen any.
    pub fn last_seen(&self, users: &[UserId]) -> HashMap<UserId, DateTime<Utc>> {
        let seen = self.read();
        users.iter().filter_map(|id| seen.get(id).map(|at| (*id, *at))).collect()
    }
}

pub struct PresenceTracker {
    clock: Clock,
    last_seen: SeenBoard,
    /// Users with at least one socket on this node.
    connected: HashSet<UserId>,
    announcer: Option<Announcer>,
    /// Users who became active here, waiting to be claimed online.
    to_announce: HashMap<UserId, DateTime<Utc>>,
    /// A claim is being written: the next waits for it, so that a reconnect storm of thousands
    /// is a handful of transactions on one connection, not one per user racing for the pool
    /// that sockets are authenticated through.
    announcing: bool,
}

impl PresenceTracker {
    /// A tracker that only keeps the local view (no announcements).
    pub fn new(clock: Clock) -> Self {
        Self {
            clock,
            last_seen: SeenBoard::default(),
            connected: HashSet::new(),
            announcer: None,
            to_announce: HashMap::new(),
            announcing: false,
        }
    }

    /// A tracker that also announces transitions to friends.
    pub fn announcing(clock: Clock, announcer: Announcer) -> Self {
        Self { announcer: Some(announcer), ..Self::new(clock) }
    }

    /// What pages read instead of asking the tracker.
    pub fn board(&self) -> SeenBoard {
        self.last_seen.clone()
    }

    fn seen(&mut self, user: UserId, at: DateTime<Utc>, ctx: &mut Context<Self>) {
        let (fresh, seen) = {
            let mut board = self.last_seen.write();
            let fresh = !board.contains_key(&user);
            let seen = board.entry(user).or_insert(at);
            *seen = (*seen).max(at);
            (fresh, *seen)
        };
        if fresh && self.announcer.is_some() {
            self.to_announce.insert(user, seen);
            self.announce(ctx);
        }
    }

    /// Claims online, in one transaction, the users waiting (at most [`ANNOUNCE_BATCH`]) unless
    /// a claim is already being written; the waiting ones follow when it is done.
    fn announce(&mut self, ctx: &mut Context<Self>) {
        let Some(announcer) = &self.announcer else { return };
        if self.announcing || self.to_announce.is_empty() {
            return;
        }
        let batch = take_batch(&mut self.to_announce, ANNOUNCE_BATCH);
        self.announcing = true;
        // Kept until the claim committed: a user dropped here would stay unannounced, as a
        // user already on the board is not announced again while active.
        let retry = batch.clone();
        let work = announcer.clone().online(batch);
        ctx.spawn(
            fut::wrap_future::<_, Self>(async move {
                let outcome = work.await;
                if let Err(e) = &outcome {
                    tracing::warn!(error = %e, "presence: announcing online failed; trying again");
                }
                outcome.is_ok()
            })
            .map(move |claimed, tracker, ctx| {
                if claimed {
                    tracker.announcing = false;
                    tracker.announce(ctx);
                    return;
                }
                for (user, at) in retry {
                    let waiting = tracker.to_announce.entry(user).or_insert(at);
                    *waiting = (*waiting).max(at);
                }
                // Still `announcing` meanwhile: newcomers join the retry, not a claim each.
                ctx.run_later(ANNOUNCE_RETRY, |tracker, ctx| {
                    tracker.announcing = false;
                    tracker.announce(ctx);
                });
            }),
        );
    }

    fn sweep(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let connected = &self.connected;
        self.last_seen.write().retain(|user, at| connected.contains(user) || is_online(*at, now));
        if let Some(announcer) = &self.announcer {
            let work = announcer.clone().sweep_offline(now - ONLINE_WINDOW);
            ctx.spawn(fut::wrap_future(async move {
                if let Err(e) = work.await {
                    tracing::warn!(error = %e, "presence: offline sweep failed");
                }
            }));
        }
    }

    fn refresh_connected(&mut self, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let users: Vec<UserId> = self.connected.iter().copied().collect();
        let mut board = self.last_seen.write();
        for user in &users {
            board.insert(*user, now);
        }
        drop(board);
        if let (false, Some(announcer)) = (users.is_empty(), &self.announcer) {
            let work = announcer.clone().refresh(users, now);
            ctx.spawn(fut::wrap_future(async move {
                if let Err(e) = work.await {
                    tracing::warn!(error = %e, "presence: refreshing connected users failed");
                }
            }));
        }
    }
}

impl Actor for PresenceTracker {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(SWEEP_INTERVAL, |tracker, ctx| tracker.sweep(ctx));
        ctx.run_interval(SOCKET_REFRESH, |tracker, ctx| tracker.refresh_connected(ctx));
    }
}

/// A user did something at `at`.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Activity {
    pub user: UserId,
    pub at: DateTime<Utc>,
}

impl Handler<Counted<Activity>> for PresenceTracker {
    type Result = ();

    fn handle(&mut self, msg: Counted<Activity>, ctx: &mut Self::Context) {
        let msg = msg.take();
        self.seen(msg.user, msg.at, ctx);
    }
}

impl Handler<SocketsChanged> for PresenceTracker {
    type Result = ();

    fn handle(&mut self, msg: SocketsChanged, ctx: &mut Self::Context) {
        if msg.connected {
            self.connected.insert(msg.user);
            let now = self.clock.now();
            self.seen(msg.user, now, ctx);
        } else {
            // Still online while the last activity is recent; the sweep notices when it is not.
            self.connected.remove(&msg.user);
        }
    }
}

/// How many users were active on this node within the online window, or have a socket here.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "usize")]
pub struct OnlineCount;

impl Handler<OnlineCount> for PresenceTracker {
    type Result = usize;

    fn handle(&mut self, _: OnlineCount, _: &mut Self::Context) -> usize {
        let now = self.clock.now();
        let board = self.last_seen.read();
        board.iter().filter(|(user, at)| self.connected.contains(*user) || is_online(**at, now)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration as Span;
    use uuid::Uuid;

    #[actix_rt::test]
    async fn keeps_the_latest_activity_and_counts_online_users() {
        let clock = Clock::testing();
        let now = clock.now();
        let tracker = PresenceTracker::new(clock);
        let board = tracker.board();
        let tracker = tracker.start();
        let (a, b, c) = (UserId(Uuid::new_v4()), UserId(Uuid::new_v4()), UserId(Uuid::new_v4()));
        tracker.do_send(Counted::new(Activity { user: a, at: now }, MAILBOX));
        tracker.do_send(Counted::new(Activity { user: a, at: now - Span::seconds(30) }, MAILBOX));
        tracker.do_send(Counted::new(Activity { user: b, at: now - Span::minutes(6) }, MAILBOX));

        // Answered after the three reports: they are on the board.
        assert_eq!(tracker.send(OnlineCount).await.unwrap(), 1, "b went quiet six minutes ago");
        let seen = board.last_seen(&[a, b, c]);
        assert_eq!(seen.get(&a), Some(&now), "an older report must not win");
        assert!(seen.contains_key(&b));
        assert!(!seen.contains_key(&c));
    }

    #[actix_rt::test]
    async fn a_socket_keeps_a_quiet_user_online() {
        let clock = Clock::testing();
        let tracker = PresenceTracker::new(clock).start();
        let user = UserId(Uuid::new_v4());
        tracker.do_send(SocketsChanged { user, connected: true });
        assert_eq!(tracker.send(OnlineCount).await.unwrap(), 1);
        tracker.do_send(SocketsChanged { user, connected: false });
        // Activity from the socket's opening is still recent.
        assert_eq!(tracker.send(OnlineCount).await.unwrap(), 1);
    }
}
