//! Comments under posts (docs/API.md §5.4): anyone comments on a live post; the author and the
//! wall's owner may remove a comment.

use nosebook_actors::Caller;
use nosebook_events::wire::{Comment, PageOf};
use nosebook_events::{CommentPublished, Event};
use nosebook_schema::AsyncConnection;
use nosebook_schema::ids::{CommentId, PostId};
use nosebook_schema::models::CommentRow;
use nosebook_schema::paging::Page;
use nosebook_schema::queries::comments::{self, Position};
use nosebook_schema::queries::posts;

use super::present::{COMMENTS_PAGE, Presenter};
use super::{CoreError, CoreResult, Kind};
use crate::domain::text::Text;
use crate::state::AppState;

/// A comment that is shown (removed ones are, as "removed"), as the caller sees it.
pub async fn get(state: &AppState, caller: &Caller, id: CommentId) -> CoreResult<Option<Comment>> {
    let mut conn = state.db.get().await?;
    let Some(comment) = comments::find_shown(&mut conn, id).await? else {
        return Ok(None);
    };
    let page = Page { rows: vec![comment], total_count: 1, next: None, prev: None };
    let mut shown = Presenter::new(state, caller.user.id).comments(&mut conn, page).await?;
    Ok(shown.data.pop())
}

/// The post a shown comment is under, if it is under one.
pub async fn post_of(state: &AppState, id: CommentId) -> CoreResult<Option<PostId>> {
    let mut conn = state.db.get().await?;
    Ok(comments::find_shown(&mut conn, id).await?.and_then(|c| c.post_id))
}

/// A page of a post's comments (five at a time).
pub async fn page(state: &AppState, caller: &Caller, post: PostId, position: Position) -> CoreResult<PageOf<Comment>> {
    let mut conn = state.db.get().await?;
    let page = comments::page(&mut conn, post, position, COMMENTS_PAGE).await?;
    Ok(Presenter::new(state, caller.user.id).comments(&mut conn, page).await?)
}

/// Comments `message` on a live post; its author and its wall's owner hear of it, unless it is
/// theirs.
pub async fn publish(state: &AppState, caller: &Caller, post: PostId, message: &Text) -> CoreResult<CommentRow> {
    let (me, now) = (caller.user.id, state.clock.now());
    let author = state.present_caller(caller.user.clone());
    let mut conn = state.change_conn().await?;
    let comment = conn
        .transaction(async |conn| {
            // Holds the post so a removal cannot slip in between the check and the insert.
            let Some(shown) = posts::find_live_for_share(conn, post).await? else {
                return Err(CoreError::not_found(Kind::CommentMissing, "Такого поста не существует"));
            };
            let comment = comments::insert(conn, post, me, message.as_str(), now).await?;
            let mut recipients = vec![shown.author_id, shown.owner_id];
            recipients.dedup();
            recipients.retain(|user| *user != me);
            let event = Event::CommentPublished(CommentPublished {
                id: comment.id.0,
                post_id: post.0,
                message: comment.message.clone(),
                author,
            });
            event.queue(conn, &recipients).await?;
            Ok(comment)
        })
        .await?;
    Ok(comment)
}

/// Removes a comment of the caller's or on their wall.
pub async fn remove(state: &AppState, caller: &Caller, id: CommentId) -> CoreResult<()> {
    let (me, now) = (caller.user.id, state.clock.now());
    let mut conn = state.db.get().await?;
    conn.transaction(async |conn| {
        // The original's order of checks: exists on a post, permission, then state.
        let missing = || CoreError::not_found(Kind::CommentMissing, "Такого комментария не существует");
        let comment = comments::find_for_update(conn, id).await?.ok_or_else(missing)?;
        let post_id = comment.post_id.ok_or_else(missing)?;
        let wall_owner = posts::find_many(conn, &[post_id]).await?.first().map(|p| p.owner_id);
        if comment.author_id != me && wall_owner != Some(me) {
            return Err(CoreError::forbidden(Kind::CommentPermissions, "Вы не можете удалить комментарий"));
        }
        if comment.removed_at.is_some() {
            return Err(CoreError::conflict(Kind::Comment, "Комментарий уже удален"));
        }
        comments::mark_removed(conn, id, now).await?;
        Ok(())
    })
    .await
}
