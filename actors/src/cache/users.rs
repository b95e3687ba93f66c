//! Users as read by every page, kept in memory for a few seconds: a user object is in nearly
//! every answer (authors, likers, friends, chat members), and people's names and avatars change
//! rarely. What changes often — activity — is overlaid from the presence tracker when the user
//! objects are presented, and the database itself holds activity up to `FLUSH_INTERVAL` late.
//!
//! Invalidation: an avatar change reaches every node's session directory (`UserChanged`, locally
//! and through the `user_changed` control message), which drops the entry here. The time to live
//! bounds what a missed message could leave stale.

use std::time::Duration;

use moka::sync::Cache;
use nosebook_schema::AsyncPgConnection;
use nosebook_schema::ids::UserId;
use nosebook_schema::models::UserRow;
use nosebook_schema::queries::users;

/// How long a cached user is served before it is read again.
pub const TIME_TO_LIVE: Duration = Duration::from_secs(5);
/// Users kept at most (about 300 bytes each).
const CAPACITY: u64 = 200_000;

#[derive(Clone)]
pub struct UserCache(Cache<UserId, UserRow>);

impl Default for UserCache {
    fn default() -> Self {
        Self(Cache::builder().max_capacity(CAPACITY).time_to_live(TIME_TO_LIVE).build())
    }
}

impl UserCache {
    /// The users among `ids` that exist, in no particular order: cached ones from memory, the
    /// others with one query.
    pub async fn find_many(&self, conn: &mut AsyncPgConnection, ids: &[UserId]) -> diesel::QueryResult<Vec<UserRow>> {
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match self.0.get(id) {
                Some(row) => found.push(row),
                None => missing.push(*id),
            }
        }
        if !missing.is_empty() {
            for row in users::find_many(conn, &missing).await? {
                self.0.insert(row.id, row.clone());
                found.push(row);
            }
        }
        Ok(found)
    }

    /// The user if cached: a read that needs no connection at all.
    pub fn cached(&self, id: UserId) -> Option<UserRow> {
        self.0.get(&id)
    }

    pub async fn find(&self, conn: &mut AsyncPgConnection, id: UserId) -> diesel::QueryResult<Option<UserRow>> {
        Ok(self.find_many(conn, &[id]).await?.pop())
    }

    /// The user changed: the next read goes to the database.
    pub fn forget(&self, id: UserId) {
        self.0.invalidate(&id);
    }
}
