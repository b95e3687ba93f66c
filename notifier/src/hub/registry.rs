//! The sockets open on this node: by user, to deliver to them, and by session, to close them when
//! it ends. The presence tracker hears when a user's first socket here opens and their last one
//! closes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix::Recipient;
use nosebook_events::SocketsChanged;
use nosebook_schema::ids::{SessionId, UserId};

use super::HubStats;
use super::resume::Variants;
use crate::mailbox::{KickReason, Mailbox, Outbound, Refused};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub u64);

struct Conn {
    session: SessionId,
    mailbox: Arc<Mailbox>,
    /// Opened with `?cursor`: its frames carry their place in the log. Without it the socket
    /// speaks the original protocol, whose frames have no such field.
    cursors: bool,
}

#[derive(Default)]
pub(super) struct Registry {
    users: HashMap<UserId, HashMap<ConnId, Conn>>,
    /// The connections each session has open here, to close them when it ends.
    sessions_open: HashMap<SessionId, HashSet<(UserId, ConnId)>>,
    /// Told when a user's first socket here opens and their last one closes.
    presence: Option<Recipient<SocketsChanged>>,
    next_id: u64,
}

impl Registry {
    pub(super) fn report_to(&mut self, presence: Recipient<SocketsChanged>) {
        self.presence = Some(presence);
    }

    /// Lists a socket of `user` for the events delivered from now on; `cursors`: it resumes, and
    /// gets frames with their cursors.
    pub(super) fn add(&mut self, user: UserId, session: SessionId, mailbox: Arc<Mailbox>, cursors: bool) -> ConnId {
        self.next_id += 1;
        let id = ConnId(self.next_id);
        let conns = self.users.entry(user).or_default();
        let first = conns.is_empty();
        conns.insert(id, Conn { session, mailbox, cursors });
        self.sessions_open.entry(session).or_default().insert((user, id));
        if let (Some(presence), true) = (&self.presence, first) {
            presence.do_send(SocketsChanged { user, connected: true });
        }
        id
    }

    /// Forgets a socket that closed.
    pub(super) fn remove(&mut self, user: UserId, id: ConnId) {
        if let Some(conns) = self.users.get_mut(&user) {
            let removed = conns.remove(&id);
            let empty = conns.is_empty();
            if let Some(conn) = removed {
                self.unlist(conn.session, user, id);
            }
            if empty {
                self.forget(user);
            }
        }
    }

    /// Forgets one connection's place in the session index.
    fn unlist(&mut self, session: SessionId, user: UserId, id: ConnId) {
        if let Some(conns) = self.sessions_open.get_mut(&session) {
            conns.remove(&(user, id));
            if conns.is_empty() {
                self.sessions_open.remove(&session);
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

    /// Closes every connection of `session` on this node.
    pub(super) fn end_session(&mut self, session: SessionId) {
        for (user, id) in self.sessions_open.remove(&session).unwrap_or_default() {
            if let Some(conn) = self.users.get(&user).and_then(|conns| conns.get(&id)) {
                conn.mailbox.kick(KickReason::SignedOut);
            }
        }
    }

    /// Closes up to `most` connections here, telling each why, and forgets them (their
    /// `Disconnect` finds nothing left to do); answers how many were told.
    pub(super) fn kick_some(&mut self, most: usize, why: KickReason) -> usize {
        let chosen: Vec<(UserId, ConnId)> =
            self.users.iter().flat_map(|(user, conns)| conns.keys().map(move |id| (*user, *id))).take(most).collect();
        for &(user, id) in &chosen {
            if let Some(conn) = self.users.get(&user).and_then(|conns| conns.get(&id)) {
                conn.mailbox.kick(why);
            }
            self.remove(user, id);
        }
        chosen.len()
    }

    /// Connections open here.
    pub(super) fn connections(&self) -> usize {
        self.users.values().map(HashMap::len).sum()
    }

    /// Users with a connection here.
    pub(super) fn users(&self) -> usize {
        self.users.len()
    }

    /// Queues the event on every socket `user` has on this node, in the form each one speaks.
    pub(super) fn deliver_to(&mut self, user: UserId, frame: &Variants, traced: bool, stats: &mut HubStats) {
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
                Ok(()) => stats.delivered += 1,
                // A full mailbox means the client cannot keep up: it is cut off, nobody waits for it.
                Err(Refused::Full) => {
                    conn.mailbox.kick(KickReason::SlowConsumer);
                    stats.slow_consumers_closed += 1;
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
