//! Walls' first pages in memory. A person's page is the most read thing in a social network and
//! its first page costs up to eight statements to build (posts and their count, first comments
//! and their counts, like counts and first likers of the posts and of those comments); it is
//! served again for one statement — the wall's version and the viewer's own likes among what it
//! shows — while the version is unchanged.
//!
//! Correct across nodes without messages: the version lives in PostgreSQL and is bumped by
//! triggers in the transaction of every write that changes the page (migration `wall_versions`),
//! and it is read in the same snapshot as the viewer's likes. A page served is therefore never
//! older than the reader's snapshot, whichever node wrote. What the page names but does not own
//! — users' names, avatars, activity — comes from the user cache and presence, as on any page.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use nosebook_actors::Caller;
use nosebook_events::wire::{PageOf, Post};
use nosebook_schema::ids::UserId;
use nosebook_schema::models::PostRow;
use nosebook_schema::paging::Page;
use nosebook_schema::queries::posts::{self, PostFilter};
use nosebook_schema::queries::walls;

use super::CoreResult;
use super::posts::PAGE_SIZE;
use super::present::{PostParts, Presenter};
use crate::state::AppState;

/// Memory the cached pages may take, by the weight below (text bytes plus row overheads).
const CAPACITY_BYTES: u64 = 64 << 20;
/// A wall nobody has read for this long leaves memory.
const TIME_TO_IDLE: Duration = Duration::from_secs(600);

/// A wall's first page as built at `version`.
struct CachedWall {
    version: i64,
    page: Page<PostRow>,
    parts: PostParts,
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

#[derive(Clone)]
pub struct WallCache(Cache<UserId, Arc<CachedWall>>);

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

/// The first page of `owner`'s wall as the caller sees it: one statement when this node has it
/// and nothing changed; built (and kept), the version and the page's own statements — up to
/// eight, in three round trips, the version pipelined with the first.
pub async fn first_page(state: &AppState, caller: &Caller, owner: UserId) -> CoreResult<PageOf<Post>> {
    let presenter = Presenter::new(state, caller.user.id);
    let mut conn = state.db.get().await?;
    let cached = state.walls.0.get(&owner);
    let mut known_version = None;
    if let Some(wall) = cached {
        let post_ids: Vec<_> = wall.page.rows.iter().map(|p| p.id.0).collect();
        let seen = walls::version_and_likes(&conn, owner, caller.user.id, &post_ids, &wall.parts.comment_ids()).await?;
        if seen.version == wall.version {
            let mut parts = wall.parts.clone();
            parts.liked_by(&HashSet::from_iter(seen.liked_posts), &HashSet::from_iter(seen.liked_comments));
            let data = presenter.show_posts(&mut conn, wall.page.rows.clone(), parts).await?;
            return Ok(page_of(data, &wall.page));
        }
        // Read before the page, as a tag must be.
        known_version = Some(seen.version);
    }

    let filter = PostFilter { owner: Some(owner), author: None };
    let (version, page) = match known_version {
        Some(version) => (version, posts::page(&conn, filter, None, PAGE_SIZE).await?),
        // Pipelined, and sent first: the version is read before the page it tags.
        None => {
            let (version, page) =
                futures_util::future::join(walls::version(&conn, owner), posts::page(&conn, filter, None, PAGE_SIZE))
                    .await;
            (version?, page?)
        }
    };
    let parts = presenter.post_parts(&mut conn, &page.rows).await?;
    let wall = Arc::new(CachedWall { version, page, parts });
    state.walls.0.insert(owner, wall.clone());
    let data = presenter.show_posts(&mut conn, wall.page.rows.clone(), wall.parts.clone()).await?;
    Ok(page_of(data, &wall.page))
}

fn page_of(data: Vec<Post>, page: &Page<PostRow>) -> PageOf<Post> {
    PageOf { data, total_count: page.total_count, next: page.next.map(|c| c.to_string()), prev: None }
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
