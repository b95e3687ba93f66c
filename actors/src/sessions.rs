//! Login sessions as actors.
//!
//! Every authenticated request asks the [`SessionDirectory`] to [`Authenticate`] its session id.
//! The directory hands the question to that session's [`SessionActor`], loading the session
//! from the database only the first time it is seen (or after the actor went idle). The actor
//! holds the session and its user, checks expiry against the clock, slides the expiry forward and
//! records the user's activity:
//!
//! - the first request a session actor serves writes activity and expiry at once, before the
//!   handler runs, so a caller always sees themselves online (docs/API.md §4); for a session
//!   new to this node that write is part of its load, made for the whole batch (below), and
//!   for a crowd of them it follows the answer, the presence tracker showing it meanwhile;
//! - after that, at most one write per [`FLUSH_INTERVAL`]: later requests update the actor's
//!   state, and a flush at the end of the interval writes the newest values. The presence
//!   tracker carries the exact value in between.
//! - one write at a time, each on a task of its own (see [`SessionActor::write`]), one statement.
//!
//! Sessions new to this node that arrive while one is being loaded are loaded together, in one
//! query: when a node leaves, its thousands of sockets reconnect to the others at once.
//!
//! Logout ([`EndSession`]) stops the actor at once and remembers the id for a while, so that a
//! request that loaded the session just before it was deleted cannot bring it back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use nosebook_schema::ids::SessionId;
use nosebook_schema::models::{SessionRow, UserRow};
use nosebook_schema::queries::{sessions, users};
use nosebook_schema::time::{Clock, SESSION_TTL};
use nosebook_schema::{DbError, DbPool};

use nosebook_events::Control;
use nosebook_schema::ids::UserId;
use nosebook_telemetry::metrics::{self, Counted};
use std::collections::HashSet;
use tokio::sync::oneshot;

use crate::batch::take_batch;
use crate::board::Board;
use crate::cache::UserCache;
use crate::presence::{Activity, PresenceTracker};
use crate::threads::Arbiters;

/// At most one activity/expiry write per session per this interval.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// A session actor that served nothing for this long stops; the next request reloads it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long a logged-out session id stays refused even if a stale load comes back with it.
const ENDED_MEMORY: Duration = Duration::from_secs(60);
/// Most sessions read in one query.
const LOAD_BATCH: usize = 500;

/// The authenticated caller of a request: the session and the user, as of this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub session: SessionRow,
    pub user: UserRow,
}

/// The session directory's name in the mailbox-depth metric: [`Authenticate`] is sent
/// [`Counted`] with it.
pub const MAILBOX: &str = "sessions";

/// Who holds this session id? `None` for unknown, expired or ended sessions.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "Result<Option<Caller>, DbError>")]
pub struct Authenticate(pub SessionId);

/// The live session actors of this node by session id: a request whose session has an actor
/// here asks that actor directly ([`authenticate`]), so the directory — one actor on one thread —
/// sees only the loads. Only the directory writes it.
pub type SessionBoard = Board<SessionId, Addr<SessionActor>>;

impl SessionBoard {
    fn live(&self, id: &SessionId) -> Option<Addr<SessionActor>> {
        self.read().get(id).filter(|a| a.connected()).cloned()
    }
}

/// Who holds session `id`: its actor on this node answers directly when there is one; otherwise,
/// or when that actor has just stopped, the directory does (and loads the session).
pub async fn authenticate(
    board: &SessionBoard,
    directory: &Addr<SessionDirectory>,
    id: SessionId,
) -> Result<Result<Option<Caller>, DbError>, MailboxError> {
    if let Some(actor) = board.live(&id)
        && let Ok(answer) = actor.send(Touch).await
    {
        return Ok(answer);
    }
    directory.send(Counted::new(Authenticate(id), MAILBOX)).await
}

/// The session was logged out: forget it everywhere on this node, now.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct EndSession(pub SessionId);

pub struct SessionDirectory {
    db: DbPool,
    clock: Clock,
    presence: Addr<PresenceTracker>,
    sessions: SessionBoard,
    /// The sessions of each user with an actor here (some may have stopped since).
    by_user: HashMap<UserId, HashSet<SessionId>>,
    ended: HashMap<SessionId, Instant>,
    /// Where session actors run (`None`: on the directory's own thread).
    threads: Option<Arbiters>,
    started: usize,
    /// Told when a user changes.
    users: Option<UserCache>,
    /// Sessions to load, with whoever waits for each. While one load is being read the next
    /// gathers here: a reconnect storm of thousands of sessions new to this node is a handful
    /// of queries, not one each racing for the pool.
    waiting: HashMap<SessionId, Vec<Loaded>>,
    loading: bool,
}

/// Where a load's outcome goes: `None` when there is no such session.
type Loaded = oneshot::Sender<Result<Option<Admitted>, DbError>>;

/// A loaded session, as the requests that waited for it see it.
#[derive(Clone)]
enum Admitted {
    /// Started by this load, whose write already recorded this request's activity: the
    /// request goes on at once, with no write of its own.
    Fresh(Caller),
    /// An actor that was already here: the request asks it, as every later request does.
    Live(Addr<SessionActor>),
}

impl SessionDirectory {
    pub fn new(db: DbPool, clock: Clock, presence: Addr<PresenceTracker>) -> Self {
        Self {
            db,
            clock,
            presence,
            sessions: SessionBoard::default(),
            by_user: HashMap::new(),
            ended: HashMap::new(),
            threads: None,
            started: 0,
            users: None,
            waiting: HashMap::new(),
            loading: false,
        }
    }

    /// Drops changed users from this cache.
    pub fn with_user_cache(mut self, users: UserCache) -> Self {
        self.users = Some(users);
        self
    }

    /// What requests read to find a session's actor without asking the directory.
    pub fn board(&self) -> SessionBoard {
        self.sessions.clone()
    }

    /// Starts session actors over these arbiters instead of the directory's thread.
    pub fn spread_over(mut self, threads: Arbiters) -> Self {
        self.threads = Some(threads);
        self
    }

    /// Starts the actor of a session just loaded — and touched, at `touched_at` — unless one is
    /// here already or the session ended meanwhile.
    fn adopt(
        &mut self,
        session: SessionRow,
        user: UserRow,
        touched_at: DateTime<Utc>,
        ctx: &mut Context<Self>,
    ) -> Option<Admitted> {
        if self.ended.contains_key(&session.session_id) {
            return None;
        }
        if let Some(addr) = self.sessions.live(&session.session_id) {
            return Some(Admitted::Live(addr));
        }
        self.presence.do_send(Counted::new(Activity { user: user.id, at: touched_at }, crate::presence::MAILBOX));
        let user_id = user.id;
        let caller = Caller { session, user: user.clone() };
        let actor = SessionActor {
            session,
            user,
            db: self.db.clone(),
            clock: self.clock,
            presence: self.presence.clone(),
            directory: ctx.address(),
            written_at: Some(touched_at),
            dirty: false,
            writing: false,
            flush_scheduled: false,
            last_used: Instant::now(),
        };
        self.by_user.entry(user_id).or_default().insert(session.session_id);
        self.started += 1;
        let addr = Arbiters::start(self.threads.as_ref(), self.started, actor);
        self.sessions.write().insert(session.session_id, addr);
        Some(Admitted::Fresh(caller))
    }
}

impl Actor for SessionDirectory {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(ENDED_MEMORY, |dir, _| {
            dir.ended.retain(|_, at| at.elapsed() < ENDED_MEMORY);
            dir.sessions.write().retain(|_, addr| addr.connected());
            let live = dir.sessions.read();
            dir.by_user.retain(|_, ids| {
                ids.retain(|id| live.contains_key(id));
                !ids.is_empty()
            });
        });
    }
}

impl Handler<Counted<Authenticate>> for SessionDirectory {
    type Result = ResponseActFuture<Self, Result<Option<Caller>, DbError>>;

    fn handle(&mut self, msg: Counted<Authenticate>, ctx: &mut Self::Context) -> Self::Result {
        let Authenticate(id) = msg.take();
        if self.ended.contains_key(&id) {
            return Box::pin(fut::ready(Ok(None)));
        }
        let Some(addr) = self.sessions.live(&id) else {
            return self.load(id, ctx);
        };
        Box::pin(fut::wrap_future::<_, Self>(addr.send(Touch)).then(move |touched, dir, ctx| match touched {
            Ok(answer) => Box::pin(fut::ready(answer)) as Self::Result,
            // The actor stopped (it went idle) after the lookup: load the session again rather
            // than answer as if the caller had signed out.
            Err(_) => {
                dir.forget(id, &addr);
                dir.load(id, ctx)
            }
        }))
    }
}

impl SessionDirectory {
    /// Drops a stopped actor from the map — unless a newer actor already took its place.
    fn forget(&mut self, id: SessionId, stopped: &Addr<SessionActor>) {
        let mut sessions = self.sessions.write();
        if sessions.get(&id) == Some(stopped) {
            sessions.remove(&id);
        }
    }

    /// Loads a session this node holds no actor for — with the others waiting, see
    /// [`SessionDirectory::load_waiting`] — and touches the actor it starts.
    fn load(
        &mut self,
        id: SessionId,
        ctx: &mut Context<Self>,
    ) -> ResponseActFuture<Self, Result<Option<Caller>, DbError>> {
        let (loaded, actor) = oneshot::channel();
        self.waiting.entry(id).or_default().push(loaded);
        ::metrics::gauge!(metrics::SESSION_LOADS_WAITING).set(self.waiting.len() as f64);
        self.load_waiting(ctx);
        Box::pin(fut::wrap_future(async move {
            match actor.await.unwrap_or(Err(DbError::Interrupted("session load")))? {
                Some(Admitted::Fresh(caller)) => Ok(Some(caller)),
                // An actor stops before a Touch only when the session ended or expired meanwhile.
                Some(Admitted::Live(addr)) => addr.send(Touch).await.unwrap_or(Ok(None)),
                None => Ok(None),
            }
        }))
    }

    /// Touches and reads the waiting sessions (at most [`LOAD_BATCH`]), one statement each for
    /// the whole batch, unless a load is under way already: those waiting then follow when it is
    /// done. The touch is the first request's activity write of every session in the batch,
    /// which a crowd of sessions moving to this node would otherwise make one by one. A lone
    /// session is touched before it is answered (docs/API.md §4); a crowd is answered first and
    /// touched right after, so that the next crowd's read does not queue behind its row locks.
    fn load_waiting(&mut self, ctx: &mut Context<Self>) {
        if self.loading || self.waiting.is_empty() {
            return;
        }
        let batch = take_batch(&mut self.waiting, LOAD_BATCH);
        ::metrics::gauge!(metrics::SESSION_LOADS_WAITING).set(self.waiting.len() as f64);
        ::metrics::counter!(metrics::SESSION_LOADS).increment(1);
        ::metrics::counter!(metrics::SESSIONS_LOADED).increment(batch.len() as u64);
        self.loading = true;
        let ids: Vec<SessionId> = batch.keys().copied().collect();
        let (db, now) = (self.db.clone(), self.clock.now());
        let read = async move {
            let mut conn = db.get().await?;
            if ids.len() == 1 {
                sessions::touch_many(&mut conn, &ids, now, now + SESSION_TTL).await?;
                return Ok::<_, DbError>(sessions::find_many_with_user(&mut conn, &ids).await?);
            }
            // A crowd: its write locks hundreds of users' rows, and every load behind this one
            // would wait for it. The sessions are answered from the read; the write follows on
            // the same connection, and the presence tracker shows their activity meanwhile.
            let rows = sessions::find_many_with_user(&mut conn, &ids).await?;
            actix::spawn(async move {
                if let Err(e) = sessions::touch_many(&mut conn, &ids, now, now + SESSION_TTL).await {
                    tracing::warn!(error = %e, sessions = ids.len(), "a crowd's activity write failed");
                }
            });
            Ok(rows)
        };
        ctx.spawn(fut::wrap_future::<_, Self>(read).map(move |read, dir, ctx| {
            dir.loading = false;
            match read {
                Ok(rows) => {
                    let mut found: HashMap<SessionId, (SessionRow, UserRow)> =
                        rows.into_iter().map(|(session, user)| (session.session_id, (session, user))).collect();
                    for (id, waiters) in batch {
                        let actor = match found.remove(&id) {
                            Some((mut session, mut user)) if session.expires_at > now => {
                                // As the touch left (or, for a crowd, will leave) them.
                                session.expires_at = session.expires_at.max(now + SESSION_TTL);
                                user.last_activity_at = user.last_activity_at.max(now);
                                dir.adopt(session, user, now, ctx)
                            }
                            _ => None,
                        };
                        for waiter in waiters {
                            let _ = waiter.send(Ok(actor.clone()));
                        }
                    }
                }
                Err(e) => {
                    let e = Arc::new(e);
                    for waiter in batch.into_values().flatten() {
                        let _ = waiter.send(Err(DbError::Shared(e.clone())));
                    }
                }
            }
            dir.load_waiting(ctx);
        }));
    }
}

impl Handler<EndSession> for SessionDirectory {
    type Result = ();

    fn handle(&mut self, msg: EndSession, _: &mut Self::Context) {
        self.ended.insert(msg.0, Instant::now());
        // Off the board first: a request that finds no actor asks the directory, which knows.
        let removed = self.sessions.write().remove(&msg.0);
        if let Some(addr) = removed {
            addr.do_send(Stop);
        }
    }
}

/// A user's record changed: every cached copy on this node is reloaded before this answers.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct UserChanged(pub UserId);

impl Handler<UserChanged> for SessionDirectory {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, UserChanged(user): UserChanged, _: &mut Self::Context) -> Self::Result {
        if let Some(users) = &self.users {
            users.forget(user);
        }
        let live = self.sessions.read();
        let actors: Vec<_> =
            self.by_user.get(&user).into_iter().flatten().filter_map(|id| live.get(id).cloned()).collect();
        drop(live);
        Box::pin(async move {
            for actor in actors {
                let _ = actor.send(Reload).await;
            }
        })
    }
}

/// Another node logged a session out or changed a user.
impl Handler<Control> for SessionDirectory {
    type Result = ();

    fn handle(&mut self, control: Control, ctx: &mut Self::Context) {
        match control {
            Control::SessionEnded { session_id } => {
                <Self as Handler<EndSession>>::handle(self, EndSession(SessionId(session_id)), ctx);
            }
            Control::UserChanged { user_id: user } => {
                let reload = <Self as Handler<UserChanged>>::handle(self, UserChanged(UserId(user)), ctx);
                ctx.spawn(fut::wrap_future(reload));
            }
        }
    }
}

/// A session actor stopped on its own (idle or expired).
#[derive(Message)]
#[rtype(result = "()")]
struct Gone(SessionId, Addr<SessionActor>);

impl Handler<Gone> for SessionDirectory {
    type Result = ();

    fn handle(&mut self, Gone(id, addr): Gone, _: &mut Self::Context) {
        self.forget(id, &addr);
    }
}

/// One login session, alive while it is in use.
pub struct SessionActor {
    session: SessionRow,
    user: UserRow,
    db: DbPool,
    clock: Clock,
    presence: Addr<PresenceTracker>,
    directory: Addr<SessionDirectory>,
    /// When activity was last written to the database by this actor.
    written_at: Option<DateTime<Utc>>,
    /// Activity newer than the last write is waiting for the next flush.
    dirty: bool,
    /// A write is in flight; the next one waits for it.
    writing: bool,
    flush_scheduled: bool,
    last_used: Instant,
}

impl SessionActor {
    fn caller(&self) -> Caller {
        Caller { session: self.session, user: self.user.clone() }
    }

    /// The write itself: the user's activity and the session's expiry, in one statement.
    ///
    /// It runs on a task of its own, so that once begun it reaches its commit even if the actor
    /// stops or the request that started it goes away: a transaction dropped halfway would go
    /// back to the pool still holding its row locks. And writes of one session never overlap: an
    /// atomic write waiting for a row lock held by a flush of the same actor would keep the actor
    /// from ever polling that flush again (the actor polls nothing else while an atomic response
    /// is pending), and neither would finish.
    fn write(&mut self) -> impl Future<Output = Result<(), DbError>> + 'static {
        self.writing = true;
        ::metrics::counter!(metrics::SESSION_WRITES).increment(1);
        let (db, session, user, at) = (self.db.clone(), self.session, self.user.id, self.user.last_activity_at);
        let task = actix::spawn(async move {
            let mut conn = db.get().await?;
            Ok::<_, DbError>(sessions::touch(&mut conn, session.session_id, user, at, session.expires_at).await?)
        });
        async move { task.await.unwrap_or(Err(DbError::Interrupted("session activity write"))) }
    }

    /// How long until the next write is allowed.
    fn flush_due(&self, now: DateTime<Utc>) -> Duration {
        match self.written_at {
            None => Duration::ZERO,
            Some(at) => FLUSH_INTERVAL.saturating_sub((now - at).to_std().unwrap_or_default()),
        }
    }

    /// A write ended: anything that came in meanwhile goes out with the next flush.
    fn written(&mut self, result: Result<(), DbError>, ctx: &mut Context<Self>) -> Result<(), DbError> {
        self.writing = false;
        if result.is_err() {
            self.dirty = true;
        }
        if self.dirty {
            let due = self.flush_due(self.clock.now());
            self.schedule_flush(ctx, due);
        }
        result
    }

    fn schedule_flush(&mut self, ctx: &mut Context<Self>, after: Duration) {
        if self.flush_scheduled {
            return;
        }
        self.flush_scheduled = true;
        ctx.run_later(after, |act, ctx| {
            act.flush_scheduled = false;
            // A write in flight schedules the next flush when it ends.
            if act.dirty && !act.writing {
                act.dirty = false;
                act.written_at = Some(act.user.last_activity_at);
                let write = act.write();
                ctx.spawn(fut::wrap_future::<_, Self>(write).map(|res, act, ctx| {
                    if let Err(e) = act.written(res, ctx) {
                        tracing::warn!(error = %e, "session activity flush failed; will retry");
                    }
                }));
            }
        });
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(IDLE_TIMEOUT / 4, |act, ctx| {
            if act.last_used.elapsed() >= IDLE_TIMEOUT {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        if self.dirty {
            let write = self.write();
            actix::spawn(async move {
                if let Err(e) = write.await {
                    tracing::warn!(error = %e, "final session activity flush failed");
                }
            });
        }
        self.directory.do_send(Gone(self.session.session_id, ctx.address()));
    }
}

#[derive(Message)]
#[rtype(result = "Result<Option<Caller>, DbError>")]
struct Touch;

impl Handler<Touch> for SessionActor {
    // Atomic: while the first write is in flight, no other request of this session is answered
    // with a caller whose activity is not yet stored.
    type Result = AtomicResponse<Self, Result<Option<Caller>, DbError>>;

    fn handle(&mut self, _: Touch, ctx: &mut Self::Context) -> Self::Result {
        let now = self.clock.now();
        if self.session.expires_at <= now {
            ctx.stop();
            return AtomicResponse::new(Box::pin(fut::ready(Ok(None))));
        }
        self.last_used = Instant::now();
        self.session.expires_at = now + SESSION_TTL;
        self.user.last_activity_at = self.user.last_activity_at.max(now);
        self.presence.do_send(Counted::new(Activity { user: self.user.id, at: now }, crate::presence::MAILBOX));

        let due = self.flush_due(now);
        if !due.is_zero() || self.writing {
            // Written recently, or being written: fold this request into the next flush.
            self.dirty = true;
            self.schedule_flush(ctx, due);
            return AtomicResponse::new(Box::pin(fut::ready(Ok(Some(self.caller())))));
        }
        self.written_at = Some(now);
        self.dirty = false;
        AtomicResponse::new(Box::pin(fut::wrap_future::<_, Self>(self.write()).map(|res, act, ctx| {
            match act.written(res, ctx) {
                Ok(()) => Ok(Some(act.caller())),
                Err(e) => {
                    act.written_at = None;
                    Err(e)
                }
            }
        })))
    }
}

/// Reads the user again (their record changed), keeping the activity this actor knows.
#[derive(Message)]
#[rtype(result = "()")]
struct Reload;

impl Handler<Reload> for SessionActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: Reload, _: &mut Self::Context) -> Self::Result {
        let (db, id) = (self.db.clone(), self.user.id);
        let load = async move {
            let mut conn = db.get().await?;
            Ok::<_, DbError>(users::find(&mut conn, id).await?)
        };
        AtomicResponse::new(Box::pin(fut::wrap_future::<_, Self>(load).map(|loaded, act, ctx| match loaded {
            Ok(Some(mut user)) => {
                user.last_activity_at = user.last_activity_at.max(act.user.last_activity_at);
                act.user = user;
            }
            Ok(None) => ctx.stop(),
            // The next request after the actor idles out reloads it; stopping now is safer than
            // serving a stale user.
            Err(e) => {
                tracing::warn!(error = %e, "reloading a changed user failed; dropping the cached session");
                ctx.stop();
            }
        })))
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Stop;

impl Handler<Stop> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
