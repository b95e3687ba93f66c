//! What the use cases keep in this node's memory between requests, held by their context
//! (`state.rs`): who was just told to be typing where (`typing.rs`) and walls' first pages
//! (`walls.rs`, which says why they stay correct).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use nosebook_schema::ids::{ChatId, PostId, UserId};
use nosebook_schema::models::{CommentRow, PostRow};
use nosebook_schema::paging::Page;
use nosebook_schema::queries::likes::LikeSummary;
use uuid::Uuid;

/// At most one `typing` per person and chat this often (per node).
pub const TOLD_EVERY: Duration = Duration::from_secs(3);
/// People typing remembered at once; past it a few more events than needed go out.
const REMEMBERED: u64 = 100_000;

/// Who was told typing in which chat within [`TOLD_EVERY`].
#[derive(Clone)]
pub struct Throttle(pub(crate) Cache<(UserId, ChatId), ()>);

impl Default for Throttle {
    fn default() -> Self {
        Self(Cache::builder().max_capacity(REMEMBERED).time_to_live(TOLD_EVERY).build())
    }
}

/// Memory the cached pages may take, by the weight below (text bytes plus row overheads).
const CAPACITY_BYTES: u64 = 64 << 20;
/// A wall nobody has read for this long leaves memory.
const TIME_TO_IDLE: Duration = Duration::from_secs(600);

/// A wall's first page as built at `version`.
pub(crate) struct CachedWall {
    pub(crate) version: i64,
    pub(crate) page: Page<PostRow>,
    pub(crate) parts: PostParts,
}

impl CachedWall {
    /// About the bytes it holds: its texts, a fixed cost per row and liker, and the entry's own
    /// (an empty wall — anyone may ask for any id — must weigh something, or such entries would
    /// escape the bound).
    fn weight(&self) -> u32 {
        const ROW: usize = 160;
        const ENTRY: usize = 256;
        let posts: usize = self.page.rows.iter().map(|p| p.message.len() + ROW).sum();
        let comments: usize =
            self.parts.first_pages.values().flat_map(|p| p.rows.iter()).map(|c| c.message.len() + ROW).sum();
        let likes: usize = self
            .parts
            .post_likes
            .values()
            .chain(self.parts.comment_likes.values())
            .map(|s| ROW + 16 * s.first_likers.len())
            .sum();
        u32::try_from(ENTRY + posts + comments + likes).unwrap_or(u32::MAX)
    }
}

/// Walls' first pages by owner, each with the version it was built at.
#[derive(Clone)]
pub struct WallCache(pub(crate) Cache<UserId, Arc<CachedWall>>);

impl Default for WallCache {
    fn default() -> Self {
        Self(
            Cache::builder()
                .weigher(|_, wall: &Arc<CachedWall>| wall.weight())
                .max_capacity(CAPACITY_BYTES)
                .time_to_idle(TIME_TO_IDLE)
                .build(),
        )
    }
}

/// What a set of posts shows besides the users it names: each post's first comments and the like
/// summaries of the posts and of those comments (`liked` as the viewer who read them sees it).
/// The wall cache ([`WallCache`]) keeps these per wall.
#[derive(Debug, Clone, Default)]
pub struct PostParts {
    pub first_pages: HashMap<PostId, Page<CommentRow>>,
    pub post_likes: HashMap<Uuid, LikeSummary>,
    pub comment_likes: HashMap<Uuid, LikeSummary>,
}

impl PostParts {
    /// The ids of the comments shown.
    pub fn comment_ids(&self) -> Vec<Uuid> {
        self.first_pages.values().flat_map(|p| p.rows.iter()).map(|c| c.id.0).collect()
    }

    /// The same parts as seen by a viewer who likes exactly `posts` and `comments` among them.
    pub fn liked_by(&mut self, posts: &HashSet<Uuid>, comments: &HashSet<Uuid>) {
        for (id, summary) in &mut self.post_likes {
            summary.liked = posts.contains(id);
        }
        for (id, summary) in &mut self.comment_likes {
            summary.liked = comments.contains(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_wall_still_counts_against_the_bound() {
        let empty = CachedWall { version: 0, page: Page::empty(), parts: PostParts::default() };
        assert!(empty.weight() >= 256, "unknown owners' empty pages would fill memory unweighed");
    }
}
