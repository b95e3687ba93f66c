//! Who is connected on this node, and delivery to them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use nosebook_schema::ids::{SessionId, UserId};
use tokio::sync::oneshot;

use crate::history::{History, Kept, Replay, Window, with_cursor};
use crate::mailbox::{KickReason, Mailbox, Outbound, Refused};
use crate::transport::{TransportError, publish_span};
use nosebook_events::{CONTROL_RECIPIENT, Control, SocketsChanged};
use nosebook_schema::models::OutboxRow;
use nosebook_telemetry::metrics::{self, Counted};
use nosebook_telemetry::trace_context;

/// One event as it goes on the wire: the exact text frame, shared by every connection. A
/// `ByteString` is reference-counted bytes: each socket's copy is a pointer, and the socket writes
/// it as is (no per-connection copy of the JSON).
pub use crate::mailbox::Frame;

/// How many recent event ids the hub remembers to drop duplicates (publishing is at least once).
const REMEMBERED_EVENTS: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

struct Conn {
    session: SessionId,
    mailbox: Arc<Mailbox>,
    /// Opened with `?cursor`: its frames carry their place in the log. Without it the socket
    /// speaks the original protocol, whose frames have no such field.
    cursors: bool,
}

/// An event's frame in the two forms sockets get: as the original protocol sends it, and with
/// its cursor for sockets that resume — the second built once, when the first such socket
/// needs it, and shared like the first.
struct Variants {
    plain: Frame,
    cursor: Option<String>,
    cursored: std::cell::OnceCell<Frame>,
    /// Of a kind the original protocol never sent ([`nosebook_events::Event::resumable_only`]).
    resumable_only: bool,
}

impl Variants {
    /// The form a socket gets, if it gets the event at all.
    fn for_socket(&self, cursors: bool) -> Option<&Frame> {
        match (&self.cursor, cursors) {
            (Some(cursor), true) => Some(self.cursored.get_or_init(|| with_cursor(&self.plain, cursor))),
            (None, true) => Some(&self.plain),
            (_, false) => (!self.resumable_only).then_some(&self.plain),
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HubStats {
    pub connections: usize,
    pub users: usize,
    pub delivered: u64,
    pub duplicates_dropped: u64,
    pub slow_consumers_closed: u64,
}

pub struct Hub {
    users: HashMap<UserId, HashMap<ConnId, Conn>>,
    /// The connections each session has open here, to close them when it ends.
    sessions_open: HashMap<SessionId, HashSet<(UserId, ConnId)>>,
    /// The recent log, for sockets that resume.
    history: History,
    /// In-process, the hub itself gives events their place in the log.
    counts_offsets: bool,
    /// This node has read the shared log since it started (at once in-process).
    live: bool,
    /// Sockets that wait to be registered until this node has read far enough (see [`Connect`]).
    waiting: Vec<Waiting>,
    /// Told when a user's first socket here opens and their last one closes.
    presence: Option<Recipient<SocketsChanged>>,
    /// Told when a control message ends a session.
    sessions: Option<Recipient<Control>>,
    next_id: u64,
    seen: HashSet<i64>,
    seen_order: VecDeque<i64>,
    stats: HubStats,
}

impl Hub {
    fn with_history(history: History, counts_offsets: bool) -> Self {
        Self {
            users: HashMap::new(),
            sessions_open: HashMap::new(),
            history,
            counts_offsets,
            live: counts_offsets,
            waiting: Vec::new(),
            presence: None,
            sessions: None,
            next_id: 0,
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            stats: HubStats::default(),
        }
    }

    /// A hub fed in-process (single node): it numbers the events itself, and its cursors are
    /// good for this process only (their prefix is drawn at random when it starts).
    pub fn new(window: Window) -> Self {
        let log = format!("p{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Self::with_history(History::new(log, window, Some(0)), true)
    }

    /// A hub fed by a shared log (the RabbitMQ stream `log`): every node reads every event, at the
    /// same offsets, so a cursor from one node resumes on any other.
    pub fn on_log(log: &str, window: Window) -> Self {
        Self::with_history(History::new(log.to_owned(), window, None), false)
    }

    /// The prefix of a cursor of the shared log `log` in its incarnation `epoch`.
    pub fn cursor_prefix(log: &str, epoch: &str) -> String {
        format!("{log}@{epoch}")
    }

    /// Hands session ends from other nodes to this node's session directory.
    pub fn with_sessions(mut self, sessions: Recipient<Control>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Reports sockets opening and closing to the presence tracker.
    pub fn with_presence(mut self, presence: Recipient<SocketsChanged>) -> Self {
        self.presence = Some(presence);
        self
    }

    /// Forgets one connection's place in the session index.
    fn unlist(&mut self, session: SessionId, user: UserId, conn: ConnId) {
        if let Some(conns) = self.sessions_open.get_mut(&session) {
            conns.remove(&(user, conn));
            if conns.is_empty() {
                self.sessions_open.remove(&session);
            }
        }
    }

    /// Closes every connection of `session` on this node.
    fn end_session(&mut self, session: SessionId) {
        for (user, id) in self.sessions_open.remove(&session).unwrap_or_default() {
            if let Some(conn) = self.users.get(&user).and_then(|conns| conns.get(&id)) {
                conn.mailbox.kick(KickReason::SignedOut);
            }
        }
    }

    /// The user's last socket here is gone.
    fn forget(&mut self, user: UserId) {
        self.users.remove(&user);
        if let Some(presence) = &self.presence {
            presence.do_send(SocketsChanged { user, connected: false });
        }
    }

    /// True the first time an event id is seen (within the remembered window).
    fn first_sight(&mut self, id: i64) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        self.seen_order.push_back(id);
        if self.seen_order.len() > REMEMBERED_EVENTS
            && let Some(old) = self.seen_order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }
}

/// How often an idle hub lets go of history past its window.
const FORGET_EVERY: Duration = Duration::from_secs(30);

impl Actor for Hub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(FORGET_EVERY, |hub, _| hub.history.forget_old(Instant::now()));
        // Exported from the start, so that a dashboard's rate reads 0 rather than nothing.
        for outcome in ["resumed", "resync", "waited"] {
            ::metrics::counter!(metrics::WS_RESUMES, "outcome" => outcome).increment(0);
        }
        for found_in in ["live", "history"] {
            ::metrics::counter!(metrics::EVENTS_DUPLICATES, "found_in" => found_in).increment(0);
        }
        ::metrics::counter!(metrics::WS_REPLAYED).increment(0);
    }
}

/// What a socket asked for when it opened (`GET /ws?cursor=…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Nothing: events as they come, the original protocol.
    No,
    /// A new start: a `ready` frame first, with the cursor to resume from if cut before any event.
    Fresh,
    /// Resuming after this cursor: `resumed` and the missed events, or `resync_required`.
    From(String),
}

/// A socket of `user` opened on this node. Answers its id once it is registered: events
/// delivered from then on reach it, after whatever its resume replays (`None`: the hub is going
/// away). Registration waits, at most [`LIVE_WAIT`], until this node has read far enough:
///
/// - on a node that has not read the shared log yet (it is starting, its consumer not yet
///   subscribed), until it has: an event the client causes after its upgrade is then appended
///   after this node started reading, so it reaches the socket;
/// - for a cursor newer than what this node has read (it came from a node ahead of this one,
///   which is behind in reading the log), until this node has read up to it, so the replay can
///   serve it instead of asking for a resync.
#[derive(Message)]
#[rtype(result = "Option<ConnId>")]
pub struct Connect {
    pub user: UserId,
    pub session: SessionId,
    pub mailbox: Arc<Mailbox>,
    pub resume: Resume,
}

/// How long an upgrade waits for its node to read far enough in the log; past it (the broker is
/// away, the node far behind) it is registered anyway: live from where the node is, and a resume
/// it cannot serve is answered `resync_required`.
pub const LIVE_WAIT: Duration = Duration::from_secs(5);

/// A [`Connect`] waiting for the node to read the log up to `until` (or at all).
struct Waiting {
    connect: Connect,
    until: Option<i64>,
    deadline: Instant,
    answer: oneshot::Sender<ConnId>,
}

impl Handler<Connect> for Hub {
    type Result = ResponseFuture<Option<ConnId>>;

    fn handle(&mut self, msg: Connect, ctx: &mut Self::Context) -> Self::Result {
        let until = match &msg.resume {
            Resume::From(cursor) => self.history.unread(cursor),
            Resume::No | Resume::Fresh => None,
        };
        if self.live && until.is_none() {
            let id = self.register(msg);
            return Box::pin(async move { Some(id) });
        }
        if matches!(msg.resume, Resume::From(_)) {
            ::metrics::counter!(metrics::WS_RESUMES, "outcome" => "waited").increment(1);
        }
        let (answer, id) = oneshot::channel();
        self.waiting.push(Waiting { connect: msg, until, deadline: Instant::now() + LIVE_WAIT, answer });
        ctx.run_later(LIVE_WAIT, |hub, _| hub.release_waiting());
        Box::pin(async move { id.await.ok() })
    }
}

impl Hub {
    /// Registers a socket: its opening frames (a resume's answer and replay) first, then it is
    /// listed for live events. Done in one step, between two deliveries: every event up to the
    /// history's last is replayed, every later one is delivered live.
    fn register(&mut self, msg: Connect) -> ConnId {
        self.next_id += 1;
        let id = ConnId(self.next_id);
        for frame in self.opening_frames(msg.user, &msg.resume) {
            // The mailbox of a resuming socket has room for a whole replay (`MAX_REPLAY`).
            let _ = msg.mailbox.post(Outbound { frame, span: tracing::Span::none() });
        }
        let conns = self.users.entry(msg.user).or_default();
        let first = conns.is_empty();
        let cursors = msg.resume != Resume::No;
        conns.insert(id, Conn { session: msg.session, mailbox: msg.mailbox, cursors });
        self.sessions_open.entry(msg.session).or_default().insert((msg.user, id));
        if let (Some(presence), true) = (&self.presence, first) {
            presence.do_send(SocketsChanged { user: msg.user, connected: true });
        }
        id
    }

    /// Registers the waiting sockets whose wait is over: the node has read far enough, or their
    /// time is up. One whose client went away meanwhile is dropped.
    fn release_waiting(&mut self) {
        if self.waiting.is_empty() {
            return;
        }
        let (now, live, last) = (Instant::now(), self.live, self.history.last());
        let (ready, still): (Vec<Waiting>, Vec<Waiting>) =
            std::mem::take(&mut self.waiting).into_iter().partition(|w| {
                now >= w.deadline || (live && w.until.is_none_or(|until| last.is_some_and(|last| last >= until)))
            });
        self.waiting = still;
        for waiting in ready {
            if waiting.answer.is_closed() {
                continue;
            }
            let id = self.register(waiting.connect);
            let _ = waiting.answer.send(id);
        }
    }
}

impl Hub {
    /// The frames a socket gets before any live event: the answer to its resume, and what it
    /// missed.
    fn opening_frames(&mut self, user: UserId, resume: &Resume) -> Vec<Frame> {
        let status = |kind: &str, cursor: Option<String>, missed: Option<usize>| -> Frame {
            let cursor = cursor.map_or("null".to_owned(), |c| format!("\"{c}\""));
            let missed = missed.map(|n| format!(",\"missed\":{n}")).unwrap_or_default();
            format!("{{\"type\":\"{kind}\",\"payload\":{{\"cursor\":{cursor}{missed}}}}}").into()
        };
        match resume {
            Resume::No => Vec::new(),
            Resume::Fresh => vec![status("ready", self.history.current(), None)],
            Resume::From(cursor) => match self.history.replay(user, cursor, Instant::now()) {
                Replay::Missed(missed) => {
                    ::metrics::counter!(metrics::WS_RESUMES, "outcome" => "resumed").increment(1);
                    ::metrics::counter!(metrics::WS_REPLAYED).increment(missed.len() as u64);
                    let mut frames = vec![status("resumed", self.history.current(), Some(missed.len()))];
                    frames.extend(missed);
                    frames
                }
                Replay::ResyncRequired => {
                    ::metrics::counter!(metrics::WS_RESUMES, "outcome" => "resync").increment(1);
                    vec![status("resync_required", self.history.current(), None)]
                }
            },
        }
    }
}

#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub user: UserId,
    pub conn: ConnId,
}

impl Handler<Disconnect> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Self::Context) {
        if let Some(conns) = self.users.get_mut(&msg.user) {
            let removed = conns.remove(&msg.conn);
            let empty = conns.is_empty();
            if let Some(conn) = removed {
                self.unlist(conn.session, msg.user, msg.conn);
            }
            if empty {
                self.forget(msg.user);
            }
        }
    }
}

/// An event for its recipients, identified by its outbox id.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Deliver {
    /// The outbox id; negative for an ephemeral event (typing), which is never replayed.
    pub event_id: i64,
    /// Its place in the shared log (the stream offset); `None` in-process, where the hub counts.
    pub offset: Option<i64>,
    /// Everyone the event is for, wherever their sockets are; [`CONTROL_RECIPIENT`] alone for a
    /// control message.
    pub recipients: Vec<UserId>,
    pub frame: Frame,
    /// The publisher's `traceparent`, when the event is traced.
    pub trace: Option<String>,
    /// Read from the log's past while this node catches up after its start: kept for sockets
    /// that resume, delivered to nobody (it happened before this node was reading).
    pub past: bool,
}

impl Deliver {
    pub fn new(event_id: i64, recipients: Vec<UserId>, frame: Frame) -> Self {
        Self { event_id, offset: None, recipients, frame, trace: None, past: false }
    }

    /// For nobody: only `offset`, a place in the shared log this node has read (its own mark,
    /// or an event it could not read).
    pub fn place(offset: i64) -> Self {
        Self { offset: Some(offset), ..Self::new(0, Vec::new(), "".into()) }
    }
}

/// The name of the hub's mailbox in the mailbox-depth metric: [`Deliver`] is sent [`Counted`]
/// with it.
pub const MAILBOX: &str = "hub";

impl Deliver {
    /// An outbox row as this node's hub takes it, continuing the row's trace.
    pub fn of_row(row: &OutboxRow) -> Self {
        let span = publish_span(row);
        Self {
            event_id: row.id,
            offset: None,
            recipients: row.recipients.clone(),
            frame: row.frame.as_str().into(),
            trace: trace_context::of(&span),
            past: false,
        }
    }
}

/// Several events in one mailbox hop: a relay's batch handed to its own node's hub.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct DeliverAll(pub Vec<Deliver>);

/// Hands committed outbox rows to `hub` (this node's) in one message, without waiting for it.
pub fn deliver_rows(hub: &Addr<Hub>, rows: &[OutboxRow]) -> Result<(), TransportError> {
    if !hub.connected() {
        return Err(TransportError::Unavailable("this node's hub has stopped".into()));
    }
    hub.do_send(Counted::new(DeliverAll(rows.iter().map(Deliver::of_row).collect()), MAILBOX));
    Ok(())
}

impl Handler<Counted<Deliver>> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Counted<Deliver>, _: &mut Self::Context) {
        self.deliver(msg.take());
        self.release_waiting();
    }
}

impl Handler<Counted<DeliverAll>> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Counted<DeliverAll>, _: &mut Self::Context) {
        for event in msg.take().0 {
            self.deliver(event);
        }
        self.release_waiting();
    }
}

impl Hub {
    fn deliver(&mut self, msg: Deliver) {
        ::metrics::counter!(metrics::EVENTS_CONSUMED).increment(1);
        let span = nosebook_telemetry::hop_span!(
            msg.trace.as_deref(),
            "notifier.deliver",
            event_id = msg.event_id,
            recipients = msg.recipients.len()
        );
        let _entered = span.enter();
        let offset = match msg.offset {
            Some(offset) => offset,
            None if self.counts_offsets => self.history.current_offset() + 1,
            None => {
                tracing::warn!(event_id = msg.event_id, "an event without its place in the log");
                return;
            }
        };
        self.history.advance(offset);
        if msg.past {
            // The past only fills the history: nobody here was connected for it. Its ids are not
            // remembered as seen (the log may hold events of an earlier database whose outbox ids
            // the current one hands out again); the history keeps an event published twice once.
            if msg.event_id >= 0
                && !msg.recipients.is_empty()
                && msg.recipients != [CONTROL_RECIPIENT]
                && self.history.push(offset, msg.event_id, msg.recipients, msg.frame, Instant::now()) == Kept::Duplicate
            {
                self.duplicate("history");
            }
            return;
        }
        self.live = true;
        if msg.recipients.is_empty() {
            // A node's mark at start: it places this node in the log, and is for nobody.
            return;
        }
        if msg.recipients == [CONTROL_RECIPIENT] {
            let Some(control) = Control::parse(&msg.frame) else {
                tracing::warn!(frame = %msg.frame, "unreadable control message");
                return;
            };
            if let Control::SessionEnded { session_id } = control {
                self.end_session(SessionId(session_id));
            }
            if let Some(sessions) = &self.sessions {
                sessions.do_send(control);
            }
            return;
        }
        if !self.first_sight(msg.event_id) {
            self.duplicate("live");
            return;
        }
        // Ephemeral events (typing) have no place to resume from: no cursor, never kept.
        let stored = msg.event_id >= 0;
        // Read from the past too (a socket may have had it in a replay): published twice.
        if stored && self.history.holds(msg.event_id, &msg.frame) {
            self.duplicate("history");
            return;
        }
        let variants = Variants {
            resumable_only: nosebook_events::frame_is_resumable_only(&msg.frame),
            plain: msg.frame,
            cursor: stored.then(|| self.history.cursor(offset)),
            cursored: std::cell::OnceCell::new(),
        };
        // Every node gets the whole list; only the recipients with a socket here matter.
        let before = self.stats.delivered;
        for recipient in &msg.recipients {
            self.deliver_to(*recipient, &variants, msg.trace.is_some());
        }
        if stored {
            self.history.push(offset, msg.event_id, msg.recipients, variants.plain, Instant::now());
        }
        // Counted once per event, not per socket: the metric's lookup would be a cost per delivery.
        ::metrics::counter!(metrics::EVENTS_DELIVERED).increment(self.stats.delivered - before);
    }

    /// An event dropped because it was delivered (`live`) or kept (`history`) already.
    fn duplicate(&mut self, found_in: &'static str) {
        self.stats.duplicates_dropped += 1;
        ::metrics::counter!(metrics::EVENTS_DUPLICATES, "found_in" => found_in).increment(1);
    }

    /// Queues the event on every socket `user` has on this node, in the form each one speaks.
    fn deliver_to(&mut self, user: UserId, frame: &Variants, traced: bool) {
        let Some(conns) = self.users.get_mut(&user) else {
            return;
        };
        let mut gone = Vec::new();
        for (id, conn) in conns.iter() {
            let Some(frame) = frame.for_socket(conn.cursors) else {
                continue;
            };
            let span = if traced { tracing::info_span!("ws.send", conn = id.0) } else { tracing::Span::none() };
            match conn.mailbox.post(Outbound { frame: frame.clone(), span }) {
                Ok(()) => self.stats.delivered += 1,
                // A full mailbox means the client cannot keep up: it is cut off, nobody waits for it.
                Err(Refused::Full) => {
                    conn.mailbox.kick(KickReason::SlowConsumer);
                    self.stats.slow_consumers_closed += 1;
                    gone.push(*id);
                }
                // Closing already; its Disconnect is on the way.
                Err(Refused::Closed) => gone.push(*id),
            }
        }
        let mut unlisted = Vec::new();
        for id in gone {
            if let Some(conn) = conns.remove(&id) {
                unlisted.push((conn.session, id));
            }
        }
        let empty = conns.is_empty();
        for (session, id) in unlisted {
            self.unlist(session, user, id);
        }
        if empty {
            self.forget(user);
        }
    }
}

/// The shared log went on without this node from this offset (see `amqp.rs`).
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Restart(pub i64);

impl Handler<Restart> for Hub {
    type Result = ();

    fn handle(&mut self, Restart(offset): Restart, _: &mut Self::Context) {
        self.history.restart_at(offset);
        self.release_waiting();
    }
}

/// The shared log this node reads is the incarnation `epoch` of its name, read from `offset` on
/// (the consumer tells this before the first event it hands over, and again when it finds the
/// log was deleted and created again): cursors name it, and those of another one resync.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Epoch {
    pub log: String,
    pub epoch: String,
    /// Where the new incarnation is read from; `None` when the node has not read anything yet.
    pub from: Option<i64>,
}

impl Handler<Epoch> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Epoch, _: &mut Self::Context) {
        let prefix = Self::cursor_prefix(&msg.log, &msg.epoch);
        if prefix == self.history.log() {
            return;
        }
        tracing::info!(log = %prefix, "reading a new incarnation of the event log");
        match msg.from {
            Some(offset) => self.history.new_epoch(prefix, offset),
            None => self.history.rename(prefix),
        }
        self.release_waiting();
    }
}

/// The node is going down: every socket here gets a close frame saying so (1012) now, rather
/// than a dropped connection when the drain time is over. Answers how many were told.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "usize")]
pub struct CloseAll;

impl Handler<CloseAll> for Hub {
    type Result = usize;

    fn handle(&mut self, _: CloseAll, _: &mut Self::Context) -> usize {
        let mut told = 0;
        for conn in self.users.values().flat_map(HashMap::values) {
            conn.mailbox.kick(KickReason::Shutdown);
            told += 1;
        }
        told
    }
}

#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "HubStats")]
pub struct Stats;

impl Handler<Stats> for Hub {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, _: Stats, _: &mut Self::Context) -> Self::Result {
        MessageResult(HubStats {
            connections: self.users.values().map(HashMap::len).sum(),
            users: self.users.len(),
            ..self.stats
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::mailbox::Next;

    /// Opens a socket of `user` (the original protocol); its frames go to the mailbox returned.
    async fn open(hub: &Addr<Hub>, user: UserId, capacity: usize) -> Arc<Mailbox> {
        let session = SessionId(uuid::Uuid::new_v4());
        let mailbox = Arc::new(Mailbox::new(capacity));
        hub.send(Connect { user, session, mailbox: mailbox.clone(), resume: Resume::No }).await.unwrap();
        mailbox
    }

    /// The text of the next frame waiting in `mailbox`.
    fn taken(mailbox: &Mailbox) -> Option<String> {
        match mailbox.try_next()? {
            Next::Frame(outbound) => Some(outbound.frame.to_string()),
            Next::Kick(why) => panic!("kicked: {why:?}"),
        }
    }

    #[actix::test]
    async fn a_slow_consumer_is_cut_off_and_a_fast_one_keeps_receiving() {
        let hub = Hub::new(Window::default()).start();
        let user = UserId(uuid::Uuid::new_v4());
        let slow = open(&hub, user, 2).await;
        let fast = open(&hub, user, 100).await;

        for id in 0..10 {
            hub.send(Counted::new(Deliver::new(id, vec![user], format!("{id}").into()), MAILBOX)).await.unwrap();
            assert_eq!(taken(&fast), Some(format!("{id}")), "the fast one never waits");
        }
        let stats = hub.send(Stats).await.unwrap();
        assert_eq!(stats.slow_consumers_closed, 1);
        assert_eq!(stats.connections, 1, "the slow one is gone from the hub");
        assert_eq!(slow.kicked(), Some(KickReason::SlowConsumer));
        assert!(matches!(slow.try_next(), Some(Next::Kick(KickReason::SlowConsumer))), "the verdict goes first");
    }

    #[actix::test]
    async fn one_event_reaches_each_of_its_recipients_here_and_nobody_else() {
        let hub = Hub::new(Window::default()).start();
        let [a, b, outsider] = [(); 3].map(|()| UserId(uuid::Uuid::new_v4()));
        let mut mailboxes = Vec::new();
        for user in [a, a, b, outsider] {
            mailboxes.push(open(&hub, user, 10).await);
        }
        // `absent` has no socket on this node: another node delivers to them.
        let absent = UserId(uuid::Uuid::new_v4());
        hub.send(Counted::new(Deliver::new(1, vec![a, absent, b], "group".into()), MAILBOX)).await.unwrap();
        for mailbox in &mailboxes[..3] {
            assert_eq!(taken(mailbox).as_deref(), Some("group"));
        }
        assert!(mailboxes[3].try_next().is_none(), "not for the outsider");
        assert_eq!(hub.send(Stats).await.unwrap().delivered, 3);
    }

    #[actix::test]
    async fn duplicates_by_event_id_are_dropped() {
        let hub = Hub::new(Window::default()).start();
        let user = UserId(uuid::Uuid::new_v4());
        let mailbox = open(&hub, user, 10).await;
        for _ in 0..3 {
            hub.send(Counted::new(Deliver::new(7, vec![user], "once".into()), MAILBOX)).await.unwrap();
        }
        assert_eq!(taken(&mailbox).as_deref(), Some("once"));
        assert!(mailbox.try_next().is_none());
        assert_eq!(hub.send(Stats).await.unwrap().duplicates_dropped, 2);
    }

    #[actix::test]
    async fn an_upgrade_waits_until_its_node_reads_the_log_and_then_gets_what_follows() {
        let hub = Hub::on_log("log", Window::default()).start();
        let user = UserId(uuid::Uuid::new_v4());
        let mailbox = Arc::new(Mailbox::new(10));
        let session = SessionId(uuid::Uuid::new_v4());
        let connect = hub.send(Connect { user, session, mailbox: mailbox.clone(), resume: Resume::Fresh });
        let mut connect = std::pin::pin!(connect);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            futures_util::FutureExt::now_or_never(&mut connect).is_none(),
            "answered before the node reads the log"
        );
        // The node's mark: it reads the log from here.
        hub.do_send(Counted::new(Deliver::place(7), MAILBOX));
        connect.await.unwrap();
        let ready = taken(&mailbox);
        assert_eq!(
            ready.as_deref(),
            Some(r#"{"type":"ready","payload":{"cursor":"log:7"}}"#),
            "registered at the mark"
        );
        hub.send(Counted::new(Deliver { offset: Some(9), ..Deliver::new(1, vec![user], "{}".into()) }, MAILBOX))
            .await
            .unwrap();
        assert_eq!(taken(&mailbox).as_deref(), Some(r#"{"cursor":"log:9"}"#));
    }

    /// A node behind in reading the log holds a resume from a node ahead of it until it has read
    /// up to the cursor, then serves it: no resync, nothing twice, nothing missing.
    #[actix::test]
    async fn a_cursor_ahead_of_this_node_waits_until_the_node_reads_up_to_it() {
        let hub = Hub::on_log("log", Window::default()).start();
        let user = UserId(uuid::Uuid::new_v4());
        let event = |offset: i64, id: i64, text: &str| {
            Counted::new(Deliver { offset: Some(offset), ..Deliver::new(id, vec![user], text.into()) }, MAILBOX)
        };
        hub.send(Counted::new(Deliver::place(10), MAILBOX)).await.unwrap();
        hub.send(event(11, 1, "{\"n\":11}")).await.unwrap();
        // The client saw offsets up to 13 on another node; this one has read up to 11.
        let mailbox = Arc::new(Mailbox::new(10));
        let session = SessionId(uuid::Uuid::new_v4());
        let resume = Resume::From("log:13".into());
        let connect = hub.send(Connect { user, session, mailbox: mailbox.clone(), resume });
        let mut connect = std::pin::pin!(connect);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(futures_util::FutureExt::now_or_never(&mut connect).is_none(), "answered before reading up to 13");
        hub.send(event(12, 2, "{\"n\":12}")).await.unwrap();
        hub.send(event(13, 3, "{\"n\":13}")).await.unwrap();
        hub.send(event(14, 4, "{\"n\":14}")).await.unwrap();
        assert!(connect.await.unwrap().is_some());
        let texts: Vec<String> = std::iter::from_fn(|| taken(&mailbox)).collect();
        assert_eq!(
            texts,
            [r#"{"type":"resumed","payload":{"cursor":"log:13","missed":0}}"#, r#"{"cursor":"log:14","n":14}"#],
            "registered once the node read 13: nothing to replay, 14 live, once"
        );
    }

    /// A socket that did not ask for cursors gets the frame as the original protocol sends it;
    /// sockets that resume get it with its cursor. Two forms at most, each built once and shared.
    #[actix::test]
    async fn only_sockets_that_resume_get_cursors_and_each_form_is_built_once() {
        let hub = Hub::on_log("log", Window::default()).start();
        hub.send(Counted::new(Deliver::place(1), MAILBOX)).await.unwrap();
        let [anna, boris] = [(); 2].map(|()| UserId(uuid::Uuid::new_v4()));
        let plain = [open(&hub, anna, 10).await, open(&hub, boris, 10).await];
        let mut resuming = Vec::new();
        for user in [anna, boris] {
            let mailbox = Arc::new(Mailbox::new(10));
            let session = SessionId(uuid::Uuid::new_v4());
            hub.send(Connect { user, session, mailbox: mailbox.clone(), resume: Resume::Fresh }).await.unwrap();
            assert!(taken(&mailbox).is_some_and(|ready| ready.contains("\"ready\"")));
            resuming.push(mailbox);
        }
        let event = r#"{"type":"new_message","payload":{}}"#;
        let deliver = Deliver { offset: Some(2), ..Deliver::new(5, vec![anna, boris], event.into()) };
        hub.send(Counted::new(deliver, MAILBOX)).await.unwrap();
        let frame = |mailbox: &Mailbox| match mailbox.try_next() {
            Some(Next::Frame(outbound)) => outbound.frame,
            _ => panic!("no frame"),
        };
        let plain_frames: Vec<Frame> = plain.iter().map(|m| frame(m)).collect();
        let cursored: Vec<Frame> = resuming.iter().map(|m| frame(m)).collect();
        assert_eq!(&*plain_frames[0], event, "the original frame, without a cursor");
        assert_eq!(&*cursored[0], r#"{"cursor":"log:2","type":"new_message","payload":{}}"#);
        assert_eq!(plain_frames[0].as_ptr(), plain_frames[1].as_ptr(), "one plain frame for every socket");
        assert_eq!(cursored[0].as_ptr(), cursored[1].as_ptr(), "one cursored frame for every socket that resumes");

        // A kind the original protocol never sent reaches only the sockets that resume.
        let later = r#"{"type":"post_published","payload":{}}"#;
        let deliver = Deliver { offset: Some(3), ..Deliver::new(6, vec![anna, boris], later.into()) };
        hub.send(Counted::new(deliver, MAILBOX)).await.unwrap();
        assert!(plain.iter().all(|m| m.try_next().is_none()), "nothing new on the original protocol");
        assert!(resuming.iter().all(|m| taken(m).is_some_and(|f| f.contains("post_published"))));
    }

    /// An event published twice (its confirm was lost, the relay sent it again) sits twice in the
    /// log. A node that read the first copy in its past and replayed it to a resuming socket
    /// drops the second copy live; a later replay shows it once.
    #[actix::test]
    async fn an_event_published_twice_reaches_a_resumed_socket_once() {
        let hub = Hub::on_log("log", Window::default()).start();
        let anna = UserId(uuid::Uuid::new_v4());
        let event = |offset: i64, past: bool| {
            let deliver = Deliver { offset: Some(offset), past, ..Deliver::new(9, vec![anna], "{}".into()) };
            Counted::new(deliver, MAILBOX)
        };
        // The node's past: the event's first copy, then its mark.
        hub.send(Counted::new(Deliver { past: true, ..Deliver::place(10) }, MAILBOX)).await.unwrap();
        hub.send(event(11, true)).await.unwrap();
        hub.send(Counted::new(Deliver::place(12), MAILBOX)).await.unwrap();
        let mailbox = Arc::new(Mailbox::new(10));
        let session = SessionId(uuid::Uuid::new_v4());
        let resume = Resume::From("log:10".into());
        hub.send(Connect { user: anna, session, mailbox: mailbox.clone(), resume }).await.unwrap();
        // The second copy, live.
        hub.send(event(13, false)).await.unwrap();
        let texts: Vec<String> = std::iter::from_fn(|| taken(&mailbox)).collect();
        assert_eq!(
            texts,
            [r#"{"type":"resumed","payload":{"cursor":"log:12","missed":1}}"#, r#"{"cursor":"log:11"}"#],
            "replayed once, not delivered again live"
        );
        let again = Arc::new(Mailbox::new(10));
        let resume = Resume::From("log:10".into());
        hub.send(Connect { user: anna, session, mailbox: again.clone(), resume }).await.unwrap();
        let texts: Vec<String> = std::iter::from_fn(|| taken(&again)).collect();
        assert_eq!(texts.len(), 2, "resumed and the event once: {texts:?}");
        assert_eq!(hub.send(Stats).await.unwrap().duplicates_dropped, 1);
    }
}
