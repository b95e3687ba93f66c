//! An actor's map that other threads read without a trip through its mailbox. The actor stays
//! the only writer; readers take a short read lock. Used where a hop to one actor per request
//! would be a queue on one thread for the whole node: the presence tracker's last activity per user
//! ([`crate::presence::SeenBoard`]) and the session directory's live session actors
//! ([`crate::sessions::SessionBoard`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub struct Board<K, V>(Arc<RwLock<HashMap<K, V>>>);

// Derived, these would ask `K: Clone + Default` and `V: Clone + Default` of a map behind an `Arc`.
impl<K, V> Clone for Board<K, V> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<K, V> Default for Board<K, V> {
    fn default() -> Self {
        Self(Arc::new(RwLock::new(HashMap::new())))
    }
}

impl<K: Eq + Hash, V> Board<K, V> {
    // A panic under the lock leaves a map of plain values: still good to read and write.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, HashMap<K, V>> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, HashMap<K, V>> {
        self.0.write().unwrap_or_else(PoisonError::into_inner)
    }
}
