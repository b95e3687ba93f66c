//! Who is connected on this node, and delivery to them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use actix::prelude::*;
use nosebook_schema::ids::UserId;
use tokio::sync::mpsc;

/// One event as it goes on the wire: the exact text frame, shared by every connection.
pub type Frame = Arc<str>;

/// How many recent event ids the hub remembers to drop duplicates (publishing is at least once).
const REMEMBERED_EVENTS: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

/// Why the hub closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// Its outbound queue is full: it cannot keep up.
    SlowConsumer,
}

#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Kick(pub KickReason);

struct Conn {
    queue: mpsc::Sender<Frame>,
    kick: Recipient<Kick>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HubStats {
    pub connections: usize,
    pub users: usize,
    pub delivered: u64,
    pub duplicates_dropped: u64,
    pub slow_consumers_closed: u64,
}

#[derive(Default)]
pub struct Hub {
    users: HashMap<UserId, HashMap<ConnId, Conn>>,
    next_id: u64,
    seen: HashSet<i64>,
    seen_order: VecDeque<i64>,
    stats: HubStats,
}

impl Hub {
    pub fn new() -> Self {
        Self::default()
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

impl Actor for Hub {
    type Context = Context<Self>;
}

/// A socket of `user` opened on this node. Answers its id once it is registered: events
/// delivered from then on reach it.
#[derive(Message)]
#[rtype(result = "ConnId")]
pub struct Connect {
    pub user: UserId,
    pub queue: mpsc::Sender<Frame>,
    pub kick: Recipient<Kick>,
}

impl Handler<Connect> for Hub {
    type Result = MessageResult<Connect>;

    fn handle(&mut self, msg: Connect, _: &mut Self::Context) -> Self::Result {
        self.next_id += 1;
        let id = ConnId(self.next_id);
        self.users.entry(msg.user).or_default().insert(
            id,
            Conn {
                queue: msg.queue,
                kick: msg.kick,
            },
        );
        MessageResult(id)
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
            conns.remove(&msg.conn);
            if conns.is_empty() {
                self.users.remove(&msg.user);
            }
        }
    }
}

/// An event for one recipient, identified by its outbox id.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Deliver {
    pub event_id: i64,
    pub recipient: UserId,
    pub frame: Frame,
}

impl Handler<Deliver> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        if !self.first_sight(msg.event_id) {
            self.stats.duplicates_dropped += 1;
            return;
        }
        let Some(conns) = self.users.get_mut(&msg.recipient) else {
            return;
        };
        let mut gone = Vec::new();
        for (id, conn) in conns.iter() {
            match conn.queue.try_send(msg.frame.clone()) {
                Ok(()) => self.stats.delivered += 1,
                // A full queue means the client cannot keep up: it is cut off, nobody waits for it.
                Err(mpsc::error::TrySendError::Full(_)) => {
                    conn.kick.do_send(Kick(KickReason::SlowConsumer));
                    self.stats.slow_consumers_closed += 1;
                    gone.push(*id);
                }
                // Closing already; its Disconnect is on the way.
                Err(mpsc::error::TrySendError::Closed(_)) => gone.push(*id),
            }
        }
        for id in gone {
            conns.remove(&id);
        }
        if conns.is_empty() {
            self.users.remove(&msg.recipient);
        }
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

/// Whether a user has a socket on this node.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "bool")]
pub struct IsConnected(pub UserId);

impl Handler<IsConnected> for Hub {
    type Result = bool;

    fn handle(&mut self, msg: IsConnected, _: &mut Self::Context) -> bool {
        self.users.contains_key(&msg.0)
    }
}
