//! What reaches the hub from the log, one variant per intent, and what the hub does with each.

use std::time::Instant;

use actix::prelude::*;
use nosebook_events::Control;
use nosebook_schema::ids::{SessionId, UserId};
use nosebook_schema::models::OutboxRow;
use nosebook_telemetry::metrics::{self, Counted};
use nosebook_telemetry::trace_context;

use super::resume::Variants;
use super::{Frame, Hub};
use crate::history::Kept;
use crate::transport::{Carried, TransportError, publish_span};

/// An event for people, as the log carries it.
#[derive(Debug, Clone)]
pub struct Published {
    /// The outbox id (an ephemeral event's own, see [`crate::transport::ephemeral_id`]).
    pub id: i64,
    /// Everyone the event is for, wherever their sockets are.
    pub recipients: Vec<UserId>,
    pub frame: Frame,
    /// The publisher's `traceparent`, when the event is traced.
    pub trace: Option<String>,
}

/// What the log hands the hub. `offset` is the place in the shared log (the stream offset);
/// `None` in-process, where the hub counts.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub enum Deliver {
    /// An event of the outbox: delivered to its recipients with a socket here, with its cursor to
    /// those that resume, and kept for sockets that resume later.
    Event { offset: Option<i64>, event: Published },
    /// An event nobody stores (someone typing): delivered live, without a cursor, never kept.
    Ephemeral { offset: Option<i64>, event: Published },
    /// A message for every node rather than for a person ([`Control`], as its frame): handed to
    /// this node's session directory; one that ends a session closes its sockets here.
    Control { offset: Option<i64>, id: i64, frame: Frame, trace: Option<String> },
    /// A place in the log and nothing else: this node's own mark (it reads the log live from
    /// here on), or an event it could not read.
    Mark { offset: i64 },
    /// Read from the log's past while this node catches up after its start: delivered to nobody
    /// (it happened before this node was reading). An outbox event (`event`) is kept for sockets
    /// that resume; anything else only moves the place.
    Past { offset: i64, event: Option<Published> },
}

/// The name of the hub's mailbox in the mailbox-depth metric: [`Deliver`] is sent [`Counted`]
/// with it.
pub const MAILBOX: &str = "hub";

impl Deliver {
    /// An outbox event for `recipients`, at no place yet (in-process, the hub counts).
    pub fn event(id: i64, recipients: Vec<UserId>, frame: Frame) -> Self {
        Self::Event { offset: None, event: Published { id, recipients, frame, trace: None } }
    }

    /// The same, at `place` in the shared log.
    pub fn at(self, place: i64) -> Self {
        match self {
            Self::Event { event, .. } => Self::Event { offset: Some(place), event },
            Self::Ephemeral { event, .. } => Self::Ephemeral { offset: Some(place), event },
            Self::Control { id, frame, trace, .. } => Self::Control { offset: Some(place), id, frame, trace },
            Self::Mark { .. } => Self::Mark { offset: place },
            Self::Past { event, .. } => Self::Past { offset: place, event },
        }
    }

    /// What a published event read live is ([`Carried`]); `None` for one that is for nobody.
    pub fn live(offset: Option<i64>, event: Published) -> Option<Self> {
        Some(match Carried::of(event.id, &event.recipients) {
            Carried::Event => Self::Event { offset, event },
            Carried::Ephemeral => Self::Ephemeral { offset, event },
            Carried::Control => Self::Control { offset, id: event.id, frame: event.frame, trace: event.trace },
            Carried::Nobody => return None,
        })
    }

    /// A published event read from the log's past: only an outbox event is kept.
    pub fn past(offset: i64, event: Published) -> Self {
        let kept = Carried::of(event.id, &event.recipients) == Carried::Event;
        Self::Past { offset, event: kept.then_some(event) }
    }

    /// An outbox row as this node's hub takes it, continuing the row's trace.
    pub fn of_row(row: &OutboxRow) -> Option<Self> {
        let span = publish_span(row);
        let event = Published {
            id: row.id,
            recipients: row.recipients.clone(),
            frame: row.frame.as_str().into(),
            trace: trace_context::of(&span),
        };
        Self::live(None, event)
    }

    /// Its outbox id (an ephemeral event's own), if it is an event.
    fn id(&self) -> Option<i64> {
        match self {
            Self::Event { event, .. } | Self::Ephemeral { event, .. } | Self::Past { event: Some(event), .. } => {
                Some(event.id)
            }
            Self::Control { id, .. } => Some(*id),
            Self::Mark { .. } | Self::Past { event: None, .. } => None,
        }
    }

    /// Its place in the log, if it has one yet.
    fn offset(&self) -> Option<i64> {
        match self {
            Self::Event { offset, .. } | Self::Ephemeral { offset, .. } | Self::Control { offset, .. } => *offset,
            Self::Mark { offset } | Self::Past { offset, .. } => Some(*offset),
        }
    }

    /// The span of its delivery, continuing the publisher's trace (none when untraced).
    fn span(&self) -> tracing::Span {
        match self {
            Self::Event { event, .. } | Self::Ephemeral { event, .. } | Self::Past { event: Some(event), .. } => {
                nosebook_telemetry::hop_span!(
                    event.trace.as_deref(),
                    "notifier.deliver",
                    event_id = event.id,
                    recipients = event.recipients.len()
                )
            }
            Self::Control { id, trace, .. } => {
                nosebook_telemetry::hop_span!(trace.as_deref(), "notifier.deliver", event_id = *id)
            }
            Self::Mark { .. } | Self::Past { event: None, .. } => tracing::Span::none(),
        }
    }
}

/// Several events in one mailbox hop: a relay's batch handed to its own node's hub.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct DeliverAll(pub Vec<Deliver>);

/// Hands committed outbox rows to `hub` (this node's) in one message, without waiting for it.
/// A row for nobody is left out, as the broker's transport leaves it out.
pub fn deliver_rows(hub: &Addr<Hub>, rows: &[OutboxRow]) -> Result<(), TransportError> {
    if !hub.connected() {
        return Err(TransportError::Unavailable("this node's hub has stopped".into()));
    }
    hub.do_send(Counted::new(DeliverAll(rows.iter().filter_map(Deliver::of_row).collect()), MAILBOX));
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

/// Whether an event has a place to resume from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// An outbox event: it carries its cursor and is kept.
    Yes,
    /// An ephemeral one: no cursor, never kept.
    No,
}

impl Hub {
    fn deliver(&mut self, msg: Deliver) {
        ::metrics::counter!(metrics::EVENTS_CONSUMED).increment(1);
        let span = msg.span();
        let _entered = span.enter();
        let offset = match msg.offset() {
            Some(offset) => offset,
            None if self.counts_offsets => self.history.current_offset() + 1,
            None => {
                tracing::warn!(event_id = ?msg.id(), "an event without its place in the log");
                return;
            }
        };
        self.history.advance(offset);
        match msg {
            Deliver::Past { event, .. } => {
                // The past only fills the history: nobody here was connected for it. Its ids are
                // not remembered as seen (the log may hold events of an earlier database whose
                // outbox ids the current one hands out again); the history keeps an event
                // published twice once.
                if let Some(event) = event
                    && self.history.push(offset, event.id, event.recipients, event.frame, Instant::now())
                        == Kept::Duplicate
                {
                    self.duplicate("history");
                }
            }
            Deliver::Mark { .. } => self.live = true,
            Deliver::Control { frame, .. } => {
                self.live = true;
                self.control(&frame);
            }
            Deliver::Event { event, .. } => {
                self.live = true;
                self.publish(offset, event, Stored::Yes);
            }
            Deliver::Ephemeral { event, .. } => {
                self.live = true;
                self.publish(offset, event, Stored::No);
            }
        }
    }

    /// A control message: a session that ended loses its sockets here, and this node's session
    /// directory hears of it.
    fn control(&mut self, frame: &str) {
        let Some(control) = Control::parse(frame) else {
            tracing::warn!(frame = %frame, "unreadable control message");
            return;
        };
        if let Control::SessionEnded { session_id } = control {
            self.sockets.end_session(SessionId(session_id));
        }
        if let Some(sessions) = &self.sessions {
            sessions.do_send(control);
        }
    }

    /// An event read live, at `offset`: to each of its recipients with a socket here, once.
    fn publish(&mut self, offset: i64, event: Published, stored: Stored) {
        if !self.seen.first_sight(event.id) {
            self.duplicate("live");
            return;
        }
        // Read from the past too (a socket may have had it in a replay): published twice.
        if stored == Stored::Yes && self.history.holds(event.id, &event.frame) {
            self.duplicate("history");
            return;
        }
        let cursor = (stored == Stored::Yes).then(|| self.history.cursor(offset));
        let variants = Variants::new(event.frame, cursor);
        // Every node gets the whole list; only the recipients with a socket here matter.
        let before = self.stats.delivered;
        for recipient in &event.recipients {
            self.sockets.deliver_to(*recipient, &variants, event.trace.is_some(), &mut self.stats);
        }
        if stored == Stored::Yes {
            self.history.push(offset, event.id, event.recipients, variants.plain, Instant::now());
        }
        // Counted once per event, not per socket: the metric's lookup would be a cost per delivery.
        ::metrics::counter!(metrics::EVENTS_DELIVERED).increment(self.stats.delivered - before);
    }

    /// An event dropped because it was delivered (`live`) or kept (`history`) already.
    fn duplicate(&mut self, found_in: &'static str) {
        self.stats.duplicates_dropped += 1;
        ::metrics::counter!(metrics::EVENTS_DUPLICATES, "found_in" => found_in).increment(1);
    }
}
