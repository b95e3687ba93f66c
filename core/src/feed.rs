//! News: the home feed of the caller's own and friends' posts (docs/API.md §5.8), in the Post
//! shape of the walls, so every door renders it with the code it has for walls.

use nosebook_actors::Caller;
use nosebook_events::wire::{PageOf, Post};
use nosebook_schema::paging::NewestFirst;
use nosebook_schema::queries::feed;

use super::CoreResult;
use super::present::Presenter;
use crate::state::AppState;

/// A page of the caller's feed from `position`, newest first.
pub async fn page(state: &AppState, caller: &Caller, position: NewestFirst, limit: usize) -> CoreResult<PageOf<Post>> {
    let mut conn = state.db.get().await?;
    let page = feed::page(&conn, caller.user.id, position, limit).await?;
    let data = Presenter::new(state, caller.user.id).posts(&mut conn, page.rows).await?;
    Ok(PageOf {
        data,
        total_count: page.total_count,
        next: page.next.map(|c| c.to_string()),
        prev: page.prev.map(|c| c.to_string()),
    })
}
