//! Who is connected on this node, and delivery to them. The hub is one actor; its parts:
//!
//! - [`deliver`]: what reaches it from the log ([`Deliver`], one variant per intent) and what it
//!   does with each;
//! - [`registry`]: the sockets open here, by user and by session;
//! - [`dedup`]: the event ids delivered lately (publishing is at least once);
//! - [`resume`]: cursors, the opening frames of a socket that resumes (`ready`, `resumed`,
//!   `resync_required`) and its replay, the wait for this node to read far enough in the log.

mod dedup;
mod deliver;
mod registry;
mod resume;

use std::time::{Duration, Instant};

use actix::prelude::*;
use nosebook_events::{Control, SocketsChanged};

use crate::history::{History, Window};
use crate::mailbox::KickReason;
use nosebook_telemetry::metrics;

pub use deliver::{Deliver, DeliverAll, MAILBOX, Published, deliver_rows};
pub use registry::ConnId;
pub use resume::{Connect, Epoch, LIVE_WAIT, Restart, Resume};

/// One event as it goes on the wire: the exact text frame, shared by every connection. A
/// `ByteString` is reference-counted bytes: each socket's copy is a pointer, and the socket writes
/// it as is (no per-connection copy of the JSON).
pub use crate::mailbox::Frame;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HubStats {
    pub connections: usize,
    pub users: usize,
    pub delivered: u64,
    pub duplicates_dropped: u64,
    pub slow_consumers_closed: u64,
}

pub struct Hub {
    sockets: registry::Registry,
    /// The recent log, for sockets that resume.
    history: History,
    /// In-process, the hub itself gives events their place in the log.
    counts_offsets: bool,
    /// This node has read the shared log since it started (at once in-process).
    live: bool,
    /// Sockets that wait to be registered until this node has read far enough (see [`Connect`]).
    waiting: Vec<resume::Waiting>,
    /// Told when a control message ends a session.
    sessions: Option<Recipient<Control>>,
    seen: dedup::Seen,
    stats: HubStats,
    /// The node is stopping ([`Drain`]): a socket that registers now is sent away at once.
    closing: bool,
}

impl Hub {
    fn with_history(history: History, counts_offsets: bool) -> Self {
        Self {
            sockets: registry::Registry::default(),
            history,
            counts_offsets,
            live: counts_offsets,
            waiting: Vec::new(),
            sessions: None,
            seen: dedup::Seen::default(),
            stats: HubStats::default(),
            closing: false,
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
        self.sockets.report_to(presence);
        self
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

/// A socket closed: the hub forgets it.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub user: nosebook_schema::ids::UserId,
    pub conn: ConnId,
}

impl Handler<Disconnect> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Disconnect, _: &mut Self::Context) {
        self.sockets.remove(msg.user, msg.conn);
    }
}

/// The node is going down: every socket here gets a close frame saying so (1012, come back to
/// another node), `per_second` of them a second rather than all at once — sent away together,
/// thousands of clients would reach the other nodes in the same instant and queue there (Phoenix
/// drains its sockets so too). Faster when that pace would take longer than `within`; all at
/// once when `per_second` is 0. The sockets not told yet keep receiving events meanwhile, and a
/// socket registered from now on is told at once. Answers how many were told, once none is left.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "usize")]
pub struct Drain {
    pub per_second: usize,
    pub within: Duration,
}

/// Shortest time between two groups of sockets a draining node sends away.
const DRAIN_TICK: Duration = Duration::from_millis(20);

/// How many sockets go at a time, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pace {
    per_tick: usize,
    tick: Duration,
}

impl Drain {
    fn pace(&self, sockets: usize) -> Pace {
        if self.per_second == 0 {
            return Pace { per_tick: usize::MAX, tick: DRAIN_TICK };
        }
        let tick = DRAIN_TICK.max(Duration::from_secs(1) / self.per_second.min(u32::MAX as usize) as u32);
        let per_tick = (self.per_second as f64 * tick.as_secs_f64()).round().max(1.0) as usize;
        let ticks = (self.within.as_secs_f64() / tick.as_secs_f64()).max(1.0) as usize;
        Pace { per_tick: per_tick.max(sockets.div_ceil(ticks)), tick }
    }
}

impl Handler<Drain> for Hub {
    type Result = ResponseFuture<usize>;

    fn handle(&mut self, drain: Drain, ctx: &mut Self::Context) -> Self::Result {
        self.closing = true;
        let pace = drain.pace(self.sockets.connections());
        let (done, told) = tokio::sync::oneshot::channel();
        self.drain_step(ctx, pace, 0, done);
        Box::pin(async move { told.await.unwrap_or(0) })
    }
}

impl Hub {
    fn drain_step(
        &mut self,
        ctx: &mut Context<Self>,
        pace: Pace,
        told: usize,
        done: tokio::sync::oneshot::Sender<usize>,
    ) {
        let told = told + self.sockets.kick_some(pace.per_tick, KickReason::Shutdown);
        if self.sockets.connections() == 0 && self.waiting.is_empty() {
            let _ = done.send(told);
            return;
        }
        ctx.run_later(pace.tick, move |hub, ctx| hub.drain_step(ctx, pace, told, done));
    }
}

#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "HubStats")]
pub struct Stats;

impl Handler<Stats> for Hub {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, _: Stats, _: &mut Self::Context) -> Self::Result {
        MessageResult(HubStats { connections: self.sockets.connections(), users: self.sockets.users(), ..self.stats })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use nosebook_schema::ids::{SessionId, UserId};
    use nosebook_telemetry::metrics::Counted;

    use crate::mailbox::{KickReason, Mailbox, Next};

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
            hub.send(Counted::new(Deliver::event(id, vec![user], format!("{id}").into()), MAILBOX)).await.unwrap();
            assert_eq!(taken(&fast), Some(format!("{id}")), "the fast one never waits");
        }
        let stats = hub.send(Stats).await.unwrap();
        assert_eq!(stats.slow_consumers_closed, 1);
        assert_eq!(stats.connections, 1, "the slow one is gone from the hub");
        assert_eq!(slow.kicked(), Some(KickReason::SlowConsumer));
        assert!(matches!(slow.try_next(), Some(Next::Kick(KickReason::SlowConsumer))), "the verdict goes first");
    }

    #[actix::test]
    async fn a_stopping_node_sends_its_sockets_away_a_few_at_a_time_and_the_rest_keep_receiving() {
        let hub = Hub::new(Window::default()).start();
        let user = UserId(uuid::Uuid::new_v4());
        let mut mailboxes = Vec::new();
        for _ in 0..3 {
            mailboxes.push(open(&hub, user, 10).await);
        }
        // One a second: the first goes at once, the next not before a second has passed.
        let drained = hub.send(Drain { per_second: 1, within: Duration::from_secs(3600) });
        let mut drained = std::pin::pin!(drained);
        assert!(futures_util::FutureExt::now_or_never(&mut drained).is_none(), "all gone at once");
        hub.send(Counted::new(Deliver::event(1, vec![user], "still here".into()), MAILBOX)).await.unwrap();
        let told: Vec<_> = mailboxes.iter().filter(|m| m.kicked() == Some(KickReason::Shutdown)).collect();
        assert_eq!(told.len(), 1, "one sent away in the first second");
        for mailbox in mailboxes.iter().filter(|m| m.kicked().is_none()) {
            assert_eq!(taken(mailbox).as_deref(), Some("still here"), "the others still get events");
        }
        assert_eq!(hub.send(Stats).await.unwrap().connections, 2);
    }

    #[actix::test]
    async fn a_drain_ends_when_every_socket_was_told_and_late_ones_are_told_at_once() {
        let hub = Hub::new(Window::default()).start();
        let user = UserId(uuid::Uuid::new_v4());
        let mut mailboxes = Vec::new();
        for _ in 0..5 {
            mailboxes.push(open(&hub, user, 10).await);
        }
        assert_eq!(hub.send(Drain { per_second: 100, within: Duration::from_secs(10) }).await.unwrap(), 5);
        assert!(mailboxes.iter().all(|m| m.kicked() == Some(KickReason::Shutdown)));
        let late = open(&hub, user, 10).await;
        assert_eq!(late.kicked(), Some(KickReason::Shutdown), "a socket that opens while the node stops");
        assert_eq!(hub.send(Drain { per_second: 0, within: Duration::ZERO }).await.unwrap(), 1);
    }

    #[test]
    fn a_drain_keeps_its_pace_unless_that_would_take_too_long() {
        let second = Duration::from_secs(1);
        let pace = |per_second, within, sockets| Drain { per_second, within }.pace(sockets);
        assert_eq!(pace(1_000, 10 * second, 3_000), Pace { per_tick: 20, tick: DRAIN_TICK });
        assert_eq!(pace(1_000, 2 * second, 10_000), Pace { per_tick: 100, tick: DRAIN_TICK });
        assert_eq!(pace(1, 10 * second, 3), Pace { per_tick: 1, tick: second });
        assert_eq!(pace(0, 10 * second, 3).per_tick, usize::MAX);
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
        hub.send(Counted::new(Deliver::event(1, vec![a, absent, b], "group".into()), MAILBOX)).await.unwrap();
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
            hub.send(Counted::new(Deliver::event(7, vec![user], "once".into()), MAILBOX)).await.unwrap();
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
        hub.do_send(Counted::new(Deliver::Mark { offset: 7 }, MAILBOX));
        connect.await.unwrap();
        let ready = taken(&mailbox);
        assert_eq!(
            ready.as_deref(),
            Some(r#"{"type":"ready","payload":{"cursor":"log:7"}}"#),
            "registered at the mark"
        );
        hub.send(Counted::new(Deliver::event(1, vec![user], "{}".into()).at(9), MAILBOX)).await.unwrap();
        assert_eq!(taken(&mailbox).as_deref(), Some(r#"{"cursor":"log:9"}"#));
    }

    /// A node behind in reading the log holds a resume from a node ahead of it until it has read
    /// up to the cursor, then serves it: no resync, nothing twice, nothing missing.
    #[actix::test]
    async fn a_cursor_ahead_of_this_node_waits_until_the_node_reads_up_to_it() {
        let hub = Hub::on_log("log", Window::default()).start();
        let user = UserId(uuid::Uuid::new_v4());
        let event = |offset: i64, id: i64, text: &str| {
            Counted::new(Deliver::event(id, vec![user], text.into()).at(offset), MAILBOX)
        };
        hub.send(Counted::new(Deliver::Mark { offset: 10 }, MAILBOX)).await.unwrap();
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
        hub.send(Counted::new(Deliver::Mark { offset: 1 }, MAILBOX)).await.unwrap();
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
        let deliver = Deliver::event(5, vec![anna, boris], event.into()).at(2);
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
        let deliver = Deliver::event(6, vec![anna, boris], later.into()).at(3);
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
            let published = Published { id: 9, recipients: vec![anna], frame: "{}".into(), trace: None };
            let deliver = if past {
                Deliver::past(offset, published)
            } else {
                Deliver::Event { offset: Some(offset), event: published }
            };
            Counted::new(deliver, MAILBOX)
        };
        // The node's past: the event's first copy, then its mark.
        hub.send(Counted::new(Deliver::Past { offset: 10, event: None }, MAILBOX)).await.unwrap();
        hub.send(event(11, true)).await.unwrap();
        hub.send(Counted::new(Deliver::Mark { offset: 12 }, MAILBOX)).await.unwrap();
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
