//! The event ids the hub delivered lately: publishing is at least once (a batch whose confirm was
//! lost is published again), and a socket must get each event once.

use std::collections::{HashSet, VecDeque};

/// How many recent event ids the hub remembers to drop duplicates.
const REMEMBERED_EVENTS: usize = 65_536;

/// The last [`REMEMBERED_EVENTS`] event ids delivered, forgotten oldest first.
#[derive(Default)]
pub(super) struct Seen {
    ids: HashSet<i64>,
    order: VecDeque<i64>,
}

impl Seen {
    /// True the first time an event id is seen (within the remembered window).
    pub(super) fn first_sight(&mut self, id: i64) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED_EVENTS
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}
