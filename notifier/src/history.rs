//! The recent past of the event log, kept by every node's hub so that a socket cut for a while
//! (a tunnel, a node restarted behind the load balancer) resumes where it stopped.
//!
//! Every event has a place in one log that every node reads in the same order: its RabbitMQ
//! stream offset, or with a single node the hub's own count. A frame sent to a socket that
//! resumes carries its place as its `cursor` (`"<log>:<offset>"`), the same for every recipient;
//! `<log>` names one incarnation of the log (its epoch), so a cursor of a log that was deleted
//! and created again under the same name is refused, not read against the new one. The place is given by the log
//! when the event is appended, after its transaction committed and in the order the log reads
//! back — never an id drawn before commit, which a row committing late would put behind a
//! cursor already handed out.
//!
//! A node keeps what it read for [`Window::age`], at most [`Window::bytes`]. It can resume a
//! cursor when it has read everything after it: the cursor is not older than the first event it
//! read (or the last it forgot), and not newer than the last (a cursor from another log, or from
//! before a restart of an in-process log, is refused by its prefix).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use nosebook_schema::ids::UserId;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

/// A frame as the hub shares it between sockets (`hub::Frame`; named here so that this module
/// does not import the hub, which imports it).
type Frame = bytestring::ByteString;

/// How long and how much of the log a node keeps for resuming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub age: Duration,
    pub bytes: usize,
}

impl Default for Window {
    fn default() -> Self {
        Self { age: Duration::from_secs(600), bytes: 64 << 20 }
    }
}

/// A resume never replays more than this many events to one socket: past it, reloading is
/// cheaper than the flood, and the client is told to (`resync_required`).
pub const MAX_REPLAY: usize = 1_000;

struct Entry {
    offset: i64,
    /// The outbox id: an event published twice (at least once) is kept once.
    event_id: i64,
    at: Instant,
    recipients: Vec<UserId>,
    /// The frame without its cursor, which a replay adds.
    frame: Frame,
}

impl Entry {
    /// What the entry costs in memory, roughly: its frame, its recipients (each also listed in
    /// the index by user) and the bookkeeping.
    fn weight(&self) -> usize {
        self.frame.len() + self.recipients.len() * (size_of::<UserId>() + size_of::<i64>()) + size_of::<Self>()
    }
}

/// What a node can do with a client's cursor.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    /// Exactly the events after the cursor for this user, in log order (possibly none).
    Missed(Vec<Frame>),
    /// The cursor is outside what this node kept (too old, unknown or from another log).
    ResyncRequired,
}

pub struct History {
    /// The prefix of every cursor of this log.
    log: String,
    window: Window,
    entries: VecDeque<Entry>,
    bytes: usize,
    /// Every event after this offset that a client may need is in `entries`; `None` until the
    /// first event was read.
    complete_after: Option<i64>,
    /// The newest offset read.
    last: Option<i64>,
    /// The offset of each kept event, by outbox id.
    offsets: HashMap<i64, i64>,
    /// The offsets of the kept events of each user, oldest first: a replay visits the events
    /// of its user only. A node's sockets all come back at once when their previous node
    /// crashed, many with cursors minutes old; walking the whole window for each of them would
    /// make the hub's thread the queue they wait in.
    by_user: HashMap<UserId, VecDeque<i64>>,
}

/// What became of an event offered to the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    Kept,
    /// The same event (id and frame) is kept already, from an earlier place in the log: it was
    /// published again after a broker failure, and a replay shows it once.
    Duplicate,
}

impl History {
    /// The history of the log named `log` (a cursor's prefix). `complete_after` is known at once
    /// for a log that starts with this process (an in-process one: offset 0, before its first
    /// event); a node reading a shared log learns it from the first event it reads.
    pub fn new(log: String, window: Window, complete_after: Option<i64>) -> Self {
        Self {
            log,
            window,
            entries: VecDeque::new(),
            bytes: 0,
            complete_after,
            last: complete_after,
            offsets: HashMap::new(),
            by_user: HashMap::new(),
        }
    }

    /// The log's name with its epoch, every cursor's prefix.
    pub fn log(&self) -> &str {
        &self.log
    }

    /// The cursor of `offset` in this log.
    pub fn cursor(&self, offset: i64) -> String {
        format!("{}:{offset}", self.log)
    }

    /// The cursor a client that has seen everything so far resumes from; `None` before this node
    /// read anything of a shared log.
    pub fn current(&self) -> Option<String> {
        self.last.map(|offset| self.cursor(offset))
    }

    /// The newest offset read, if any.
    pub fn last(&self) -> Option<i64> {
        self.last
    }

    /// The offset of `cursor` when it is a place in this log that this node has not read yet (a
    /// cursor handed out by a node ahead of this one).
    pub fn unread(&self, cursor: &str) -> Option<i64> {
        let offset = self.offset_of(cursor)?;
        self.last.is_none_or(|last| offset > last).then_some(offset)
    }

    /// The offset of a cursor of this log.
    fn offset_of(&self, cursor: &str) -> Option<i64> {
        cursor.rsplit_once(':').filter(|(log, _)| *log == self.log).and_then(|(_, offset)| offset.parse::<i64>().ok())
    }

    /// The newest offset read (0 before any, for a log that starts with this process).
    pub fn current_offset(&self) -> i64 {
        self.last.unwrap_or(0)
    }

    /// Notes that the log reached `offset`: events that are not replayed (control messages,
    /// typing, duplicates) move the cursor too.
    pub fn advance(&mut self, offset: i64) {
        self.complete_after.get_or_insert(offset);
        self.last = Some(self.last.map_or(offset, |last| last.max(offset)));
    }

    /// The log went on without us from `offset` (a reconnection found the stream moved on, e.g.
    /// retention removed what this node had not read): nothing before it can be resumed here.
    pub fn restart_at(&mut self, offset: i64) {
        self.forget_all();
        self.complete_after = Some(offset);
        self.last = Some(offset);
    }

    /// Another incarnation of the log from `offset` on (it was deleted and created again): the
    /// cursors of the old one name it, so none of them resumes here from now on.
    pub fn new_epoch(&mut self, log: String, offset: i64) {
        self.log = log;
        self.restart_at(offset);
    }

    /// Names the log anew without a place to start from (the node has read nothing yet, or only
    /// places): nothing kept under the old name can be resumed under the new one.
    pub fn rename(&mut self, log: String) {
        self.log = log;
        self.forget_all();
        self.complete_after = self.last;
    }

    fn forget_all(&mut self) {
        self.entries.clear();
        self.offsets.clear();
        self.by_user.clear();
        self.bytes = 0;
    }

    /// True when the event `event_id` with this frame is kept already.
    pub fn holds(&self, event_id: i64, frame: &str) -> bool {
        self.kept(event_id).is_some_and(|kept| kept.frame == frame)
    }

    /// Keeps an event (its frame without a cursor) for resuming, forgetting what is too old or
    /// too much; an event already kept under its id, with the same frame, is not kept again.
    /// (The same id with another frame is another event: the log may still hold events of an
    /// earlier database, whose outbox ids the current one hands out again.)
    pub fn push(&mut self, offset: i64, event_id: i64, recipients: Vec<UserId>, frame: Frame, now: Instant) -> Kept {
        self.advance(offset);
        if self.holds(event_id, &frame) {
            return Kept::Duplicate;
        }
        for user in &recipients {
            let offsets = self.by_user.entry(*user).or_default();
            // A user listed twice gets the event once.
            if offsets.back() != Some(&offset) {
                offsets.push_back(offset);
            }
        }
        let entry = Entry { offset, event_id, at: now, recipients, frame };
        self.bytes += entry.weight();
        self.offsets.insert(event_id, offset);
        self.entries.push_back(entry);
        self.forget_old(now);
        Kept::Kept
    }

    /// The kept entry of `event_id`, if any.
    fn kept(&self, event_id: i64) -> Option<&Entry> {
        self.entry_at(*self.offsets.get(&event_id)?)
    }

    /// The kept entry at `offset`, if any.
    fn entry_at(&self, offset: i64) -> Option<&Entry> {
        let at = self.entries.partition_point(|entry| entry.offset < offset);
        self.entries.get(at).filter(|entry| entry.offset == offset)
    }

    /// Drops the entries older than the window or over its size.
    pub fn forget_old(&mut self, now: Instant) {
        while let Some(oldest) = self.entries.front() {
            let too_old = now.saturating_duration_since(oldest.at) >= self.window.age;
            if !too_old && self.bytes <= self.window.bytes {
                break;
            }
            self.bytes -= oldest.weight();
            self.complete_after = Some(oldest.offset);
            if self.offsets.get(&oldest.event_id) == Some(&oldest.offset) {
                self.offsets.remove(&oldest.event_id);
            }
            for user in &oldest.recipients {
                if let Some(offsets) = self.by_user.get_mut(user) {
                    while offsets.front().is_some_and(|kept| *kept <= oldest.offset) {
                        offsets.pop_front();
                    }
                    if offsets.is_empty() {
                        self.by_user.remove(user);
                    }
                }
            }
            self.entries.pop_front();
        }
    }

    /// `user`'s events after `cursor`, or why there are none to give.
    pub fn replay(&mut self, user: UserId, cursor: &str, now: Instant) -> Replay {
        self.forget_old(now);
        let offset = self.offset_of(cursor);
        let (Some(offset), Some(complete_after), Some(last)) = (offset, self.complete_after, self.last) else {
            return Replay::ResyncRequired;
        };
        if offset < complete_after || offset > last {
            return Replay::ResyncRequired;
        }
        let Some(offsets) = self.by_user.get(&user) else {
            return Replay::Missed(Vec::new());
        };
        let start = offsets.partition_point(|kept| *kept <= offset);
        if offsets.len() - start > MAX_REPLAY {
            return Replay::ResyncRequired;
        }
        let missed = offsets
            .range(start..)
            .filter_map(|kept| self.entry_at(*kept))
            .map(|entry| with_cursor(&entry.frame, &self.cursor(entry.offset)))
            .collect();
        Replay::Missed(missed)
    }

    /// How many kept events the index lists for `user`: what a replay for them may visit.
    #[cfg(test)]
    fn indexed(&self, user: UserId) -> usize {
        self.by_user.get(&user).map_or(0, VecDeque::len)
    }

    /// Events kept, and their weight in bytes.
    pub fn size(&self) -> (usize, usize) {
        (self.entries.len(), self.bytes)
    }
}

/// `frame` (a JSON object) with its place in the log as its first member, `"cursor"`; any other
/// frame as it is.
///
/// The frame is text (serialised once from its event for every recipient, kept verbatim by the
/// outbox and the log), and a socket that resumes gets it with one more member. Its members are
/// borrowed from it as they are ([`RawValue`]: scanned once, never parsed into values nor
/// serialised again) and written back after the cursor, so the bytes of the payload are the ones
/// every other socket gets. Built once per event for all the sockets that resume (`hub::resume`)
/// and once per event a replay sends.
pub fn with_cursor(frame: &str, cursor: &str) -> Frame {
    match serde_json::from_str::<Members<'_>>(frame) {
        // Plain data with string keys: serialization cannot fail.
        Ok(members) => serde_json::to_string(&Cursored { cursor, members }).unwrap_or_default().into(),
        Err(_) => frame.into(),
    }
}

/// A frame that carries its place in the log: `{"cursor": …, <the frame's members>}`.
struct Cursored<'a> {
    cursor: &'a str,
    members: Members<'a>,
}

impl Serialize for Cursored<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1 + self.members.0.len()))?;
        map.serialize_entry("cursor", self.cursor)?;
        for (key, value) in &self.members.0 {
            map.serialize_entry(key.as_ref(), value)?;
        }
        map.end()
    }
}

/// The members of a JSON object in their order, each value as its text.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;

        impl<'de> Visitor<'de> for Object {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(2));
                while let Some((Key(key), value)) = map.next_entry()? {
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(Object)
    }
}

/// A member's name: borrowed from the frame unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;

        impl<'de> Visitor<'de> for Name {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member's name")
            }

            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(name)))
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(name.to_owned())))
            }
        }

        deserializer.deserialize_str(Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        UserId(uuid::Uuid::new_v4())
    }

    fn frames(replay: Replay) -> Vec<String> {
        match replay {
            Replay::Missed(frames) => frames.into_iter().map(|f| f.to_string()).collect(),
            Replay::ResyncRequired => panic!("expected a replay"),
        }
    }

    #[test]
    fn a_cursor_gets_exactly_the_user_s_later_events_and_nothing_else() {
        let (anna, bob) = (user(), user());
        let now = Instant::now();
        let mut history = History::new("t".into(), Window::default(), Some(0));
        // Offsets of a stream have gaps: the cursor compares, it never counts.
        history.push(3, 1, vec![anna, bob], "a".into(), now);
        history.push(4, 2, vec![bob], "b".into(), now);
        history.advance(6);
        history.push(9, 3, vec![anna], "c".into(), now);
        assert_eq!(frames(history.replay(anna, "t:0", now)), ["a", "c"]);
        assert_eq!(frames(history.replay(anna, "t:3", now)), ["c"]);
        assert_eq!(frames(history.replay(anna, "t:6", now)), ["c"]);
        assert_eq!(frames(history.replay(bob, "t:3", now)), ["b"]);
        assert!(frames(history.replay(anna, "t:9", now)).is_empty());
        assert_eq!(history.current().as_deref(), Some("t:9"));
    }

    #[test]
    fn a_replay_visits_only_its_user_s_events() {
        let (anna, bob) = (user(), user());
        let now = Instant::now();
        let mut history = History::new("t".into(), Window::default(), Some(0));
        history.push(1, 1, vec![anna, anna], "mine".into(), now);
        for n in 2..10_000 {
            history.push(n, n, vec![bob], "theirs".into(), now);
        }
        history.push(10_000, 10_000, vec![anna, bob], "ours".into(), now);
        assert_eq!(frames(history.replay(anna, "t:0", now)), ["mine", "ours"]);
        assert_eq!(history.indexed(anna), 2, "a replay walks its user's events, not the window");
        assert!(frames(history.replay(user(), "t:0", now)).is_empty());
        // What the window forgets, the index forgets too.
        history.forget_old(now + Window::default().age);
        assert_eq!((history.indexed(anna), history.indexed(bob)), (0, 0));
        assert!(history.by_user.is_empty());
    }

    #[test]
    fn a_cursor_outside_what_was_kept_asks_for_a_resync() {
        let anna = user();
        let now = Instant::now();
        let window = Window { age: Duration::from_secs(60), bytes: 1 << 20 };
        let mut history = History::new("t".into(), window, None);
        assert_eq!(history.replay(anna, "t:0", now), Replay::ResyncRequired, "nothing read yet");
        history.push(10, 1, vec![anna], "a".into(), now);
        history.push(11, 2, vec![anna], "b".into(), now + Duration::from_secs(30));
        assert_eq!(history.replay(anna, "t:9", now), Replay::ResyncRequired, "from before this node read the log");
        assert_eq!(history.replay(anna, "t:12", now), Replay::ResyncRequired, "from the future");
        assert_eq!(history.replay(anna, "other:10", now), Replay::ResyncRequired, "another log");
        assert_eq!(history.replay(anna, "garbage", now), Replay::ResyncRequired);
        assert_eq!(frames(history.replay(anna, "t:10", now)), ["b"]);
        // A minute later the first event is forgotten: a cursor before it cannot be served.
        let later = now + Duration::from_secs(61);
        assert_eq!(frames(history.replay(anna, "t:10", later)), ["b"], "nothing after 10 was forgotten");
        assert_eq!(history.replay(anna, "t:9", later), Replay::ResyncRequired);
        history.restart_at(40);
        assert_eq!(history.replay(anna, "t:11", later), Replay::ResyncRequired, "the log moved on without us");
    }

    #[test]
    fn the_window_holds_its_size_and_a_long_absence_is_a_resync() {
        let anna = user();
        let now = Instant::now();
        let mut history = History::new("t".into(), Window { age: Duration::from_secs(600), bytes: 64 << 10 }, Some(0));
        for offset in 1..=10_000 {
            history.push(offset, offset, vec![anna], "x".repeat(100).into(), now);
        }
        let (kept, bytes) = history.size();
        assert!(bytes <= 64 << 10 && kept < 10_000, "{kept} events, {bytes} bytes");
        assert_eq!(history.replay(anna, "t:1", now), Replay::ResyncRequired);
        let recent = 10_000 - kept as i64;
        assert_eq!(frames(history.replay(anna, &format!("t:{recent}"), now)).len(), kept);
        let mut big = History::new("t".into(), Window { age: Duration::from_secs(600), bytes: 64 << 20 }, Some(0));
        for offset in 1..=(MAX_REPLAY as i64 + 1) {
            big.push(offset, offset, vec![anna], "x".into(), now);
        }
        assert_eq!(big.replay(anna, "t:0", now), Replay::ResyncRequired, "more than a replay's worth");
        assert_eq!(frames(big.replay(anna, "t:1", now)).len(), MAX_REPLAY);
    }

    /// An event published again after a broker failure (its confirm was lost) sits twice in the
    /// log; a node that reads both keeps it once, so a replay across the failure shows it once.
    #[test]
    fn an_event_published_twice_is_replayed_once() {
        let anna = user();
        let now = Instant::now();
        let mut history = History::new("t".into(), Window::default(), Some(0));
        let frame = r#"{"type":"new_message","payload":{}}"#;
        assert_eq!(history.push(3, 41, vec![anna], frame.into(), now), Kept::Kept);
        assert_eq!(history.push(4, 42, vec![anna], "{}".into(), now), Kept::Kept);
        assert_eq!(history.push(5, 41, vec![anna], frame.into(), now), Kept::Duplicate, "published again");
        assert_eq!(
            frames(history.replay(anna, "t:0", now)),
            [r#"{"cursor":"t:3","type":"new_message","payload":{}}"#, r#"{"cursor":"t:4"}"#],
        );
        assert_eq!(history.current().as_deref(), Some("t:5"), "the duplicate's place still counts");
        // The same id with another frame is another event (an earlier database's).
        assert_eq!(history.push(6, 41, vec![anna], "{\"other\":1}".into(), now), Kept::Kept);
        assert_eq!(frames(history.replay(anna, "t:5", now)), [r#"{"cursor":"t:6","other":1}"#]);
    }

    #[test]
    fn a_cursor_of_an_earlier_epoch_of_the_log_is_refused() {
        let anna = user();
        let now = Instant::now();
        let mut history = History::new("log@a".into(), Window::default(), Some(0));
        history.push(3, 1, vec![anna], "{}".into(), now);
        assert_eq!(frames(history.replay(anna, "log@a:0", now)), [r#"{"cursor":"log@a:3"}"#]);
        // Deleted and created again: its offsets start over.
        history.new_epoch("log@b".into(), 0);
        history.push(1, 2, vec![anna], "{}".into(), now);
        assert_eq!(history.replay(anna, "log@a:0", now), Replay::ResyncRequired, "a cursor of the old log");
        assert_eq!(frames(history.replay(anna, "log@b:0", now)), [r#"{"cursor":"log@b:1"}"#]);
    }

    #[test]
    fn the_cursor_goes_first_in_the_frame() {
        assert_eq!(&*with_cursor(r#"{"type":"x","payload":{}}"#, "t:5"), r#"{"cursor":"t:5","type":"x","payload":{}}"#);
        assert_eq!(&*with_cursor("{}", "t:5"), r#"{"cursor":"t:5"}"#);
    }
}
