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

use nosebook_actors::Caller;
use nosebook_events::wire::{PageOf, Post};
use nosebook_schema::ids::UserId;
use nosebook_schema::models::PostRow;
use nosebook_schema::paging::Page;
use nosebook_schema::queries::posts::{self, PostFilter};
use nosebook_schema::queries::walls;

use super::CoreResult;
use super::present::{POSTS_PAGE, Presenter};
use crate::caches::CachedWall;
use crate::state::AppState;

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
        Some(version) => (version, posts::page(&conn, filter, None, POSTS_PAGE).await?),
        // Pipelined, and sent first: the version is read before the page it tags.
        None => {
            let (version, page) =
                futures_util::future::join(walls::version(&conn, owner), posts::page(&conn, filter, None, POSTS_PAGE))
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
