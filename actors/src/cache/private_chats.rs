//! Each pair's private chat, once it exists, from memory. A pair's private chat never changes
//! and is never deleted, so an entry cannot go stale; a send to a person (`recipientId`) then
//! costs no lookup at all.

use moka::sync::Cache;
use nosebook_schema::ids::{ChatId, UserId};
use nosebook_schema::queries::chats::ordered as pair;

/// Pairs remembered at most (about 80 bytes each).
const CAPACITY: u64 = 200_000;

#[derive(Clone)]
pub struct PrivateChats(Cache<(UserId, UserId), ChatId>);

impl Default for PrivateChats {
    fn default() -> Self {
        Self(Cache::builder().max_capacity(CAPACITY).build())
    }
}

impl PrivateChats {
    pub fn get(&self, a: UserId, b: UserId) -> Option<ChatId> {
        self.0.get(&pair(a, b))
    }

    pub fn remember(&self, a: UserId, b: UserId, chat: ChatId) {
        self.0.insert(pair(a, b), chat);
    }
}
