//! News: the home feed of the caller's own and friends' posts (docs/API.md §5.8), in the Post
//! shape of the walls, so every door renders it with the code it has for walls.
//!
//! A reader's feed is kept (copied as posts are written, [`crate::feed_copier`]) from their first
//! read on, for as long as they keep reading it; until it is built, and for pages past what it
//! keeps, the page is built when read. Either way the reader sees the same posts.

use chrono::Duration;
use nosebook_actors::Caller;
use nosebook_events::wire::{PageOf, Post};
use nosebook_schema::paging::NewestFirst;
use nosebook_schema::queries::feed::{self, Kept};

use super::CoreResult;
use super::present::Presenter;
use crate::state::AppState;

/// How stale a kept feed's last read may get before a read marks it again: a write per reader an
/// hour at most, not one per page.
const MARK_READ_EVERY: Duration = Duration::hours(1);

/// A page of the caller's feed from `position`, newest first.
pub async fn page(state: &AppState, caller: &Caller, position: NewestFirst, limit: usize) -> CoreResult<PageOf<Post>> {
    let mut conn = state.db.get().await?;
    let me = caller.user.id;
    let now = state.clock.now();
    let page = match feed::kept_page(&mut conn, me, position, limit).await? {
        Kept::Page { page, read_at } => {
            if now - read_at > MARK_READ_EVERY {
                feed::keep(&mut conn, me, now).await?;
            }
            page
        }
        Kept::Absent => {
            if feed::keep(&mut conn, me, now).await? {
                state.feed.wake();
            }
            feed::page(&conn, me, position, limit, None).await?
        }
        Kept::Short { total_count } => feed::page(&conn, me, position, limit, Some(total_count)).await?,
    };
    let data = Presenter::new(state, caller.user.id).posts(&mut conn, page.rows).await?;
    Ok(PageOf {
        data,
        total_count: page.total_count,
        next: page.next.map(|c| c.to_string()),
        prev: page.prev.map(|c| c.to_string()),
    })
}
