//! Open sockets per session on this node. A [`SocketSlot`] is held for as long as its socket is
//! open and gives its place back when dropped; a session's entry goes with its last socket, so
//! the map never holds more entries than there are open sockets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use nosebook_schema::ids::SessionId;

#[derive(Debug, Default)]
pub struct SocketsPerSession {
    open: Arc<Mutex<HashMap<SessionId, usize>>>,
}

/// One open socket of a session.
#[derive(Debug)]
pub struct SocketSlot {
    open: Arc<Mutex<HashMap<SessionId, usize>>>,
    session: SessionId,
}

impl SocketsPerSession {
    /// A slot for one more socket of `session`, unless it already has `max` open here.
    pub fn claim(&self, session: SessionId, max: usize) -> Option<SocketSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(session).or_insert(0);
        if *count >= max {
            if *count == 0 {
                open.remove(&session);
            }
            return None;
        }
        *count += 1;
        Some(SocketSlot { open: self.open.clone(), session })
    }

    /// Sockets of `session` open on this node.
    pub fn open(&self, session: SessionId) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).get(&session).copied().unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.session) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.session);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_and_given_back() {
        let sockets = SocketsPerSession::default();
        let session = SessionId(uuid::Uuid::new_v4());
        let first = sockets.claim(session, 2);
        let second = sockets.claim(session, 2);
        assert!(first.is_some() && second.is_some());
        assert!(sockets.claim(session, 2).is_none());
        drop(first);
        assert_eq!(sockets.open(session), 1);
        let third = sockets.claim(session, 2);
        assert!(third.is_some());
        drop((second, third));
        assert_eq!(sockets.open(session), 0);
        assert!(sockets.open.lock().unwrap_or_else(PoisonError::into_inner).is_empty());
    }
}
