//! Posts on walls (docs/API.md §5.3): anyone writes on anyone's wall; the author and the wall's
//! owner may remove a post.

use nosebook_actors::Caller;
use nosebook_events::wire::{PageOf, Post};
use nosebook_events::{Event, PostPublished};
use nosebook_schema::ids::{PostId, UserId};
use nosebook_schema::models::PostRow;
use nosebook_schema::paging::Cursor;
use nosebook_schema::queries::posts::{self, PostFilter};
use nosebook_schema::{AsyncConnection, DbError};

use super::present::{POSTS_PAGE, Presenter};
use super::{CoreError, CoreResult, Kind};
use crate::domain::text::Text;
use crate::state::AppState;

/// A live post, as the caller sees it.
pub async fn get(state: &AppState, caller: &Caller, id: PostId) -> CoreResult<Option<Post>> {
    let mut conn = state.db.get().await?;
    let Some(post) = posts::find_live(&mut conn, id).await? else {
        return Ok(None);
    };
    Ok(Presenter::new(state, caller.user.id).posts(&mut conn, vec![post]).await?.pop())
}

/// A page of posts on a wall or by an author (at least one of the two), newest first.
pub async fn page(
    state: &AppState,
    caller: &Caller,
    filter: PostFilter,
    after: Option<Cursor>,
) -> CoreResult<PageOf<Post>> {
    if filter.owner.is_none() && filter.author.is_none() {
        return Err(CoreError::invalid(Kind::PostPresenter, "Отсутствует фильтр"));
    }
    if let (Some(owner), None, None) = (filter.owner, filter.author, after) {
        return super::walls::first_page(state, caller, owner).await;
    }
    let mut conn = state.db.get().await?;
    let page = posts::page(&conn, filter, after, POSTS_PAGE).await?;
    let next = page.next.map(|c| c.to_string());
    let data = Presenter::new(state, caller.user.id).posts(&mut conn, page.rows).await?;
    Ok(PageOf { data, total_count: page.total_count, next, prev: None })
}

/// Writes `message` on `owner`'s wall; an owner who is someone else hears of it.
pub async fn publish(state: &AppState, caller: &Caller, owner: UserId, message: &Text) -> CoreResult<PostRow> {
    let me = caller.user.id;
    let author = (owner != me).then(|| state.present_caller(caller.user.clone()));
    let mut conn = state.change_conn().await?;
    let published = conn
        .transaction(async |conn| {
            let post = posts::insert(conn, me, owner, message.as_str(), state.clock.now()).await?;
            if let Some(author) = author.clone() {
                let event = Event::PostPublished(PostPublished {
                    id: post.id.0,
                    owner_id: owner.0,
                    message: post.message.clone(),
                    author,
                });
                event.queue(conn, &[owner]).await?;
            }
            Ok::<_, DbError>(post)
        })
        .await;
    match published {
        Ok(post) => {
            // Its copies into the readers' kept feeds were queued with it (migration
            // `stored_feeds`): make them now rather than at the copier's next look.
            state.feed.wake();
            Ok(post)
        }
        Err(e) => match e {
            e if e.is_foreign_key_violation() => {
                Err(CoreError::not_found(Kind::Unknown, format!("user {owner} does not exist")))
            }
            e => Err(e.into()),
        },
    }
}

/// Removes a post of the caller's or on their wall.
pub async fn remove(state: &AppState, caller: &Caller, id: PostId) -> CoreResult<()> {
    let (me, now) = (caller.user.id, state.clock.now());
    let mut conn = state.db.get().await?;
    conn.transaction(async |conn| {
        let Some(post) = posts::find_live_for_update(conn, id).await? else {
            return Err(CoreError::not_found(Kind::Posting, "Такого поста не существует"));
        };
        if post.author_id != me && post.owner_id != me {
            return Err(CoreError::forbidden(Kind::Post, "Только автор и владелец поста может его удалить"));
        }
        posts::mark_removed(conn, id, now).await?;
        Ok(())
    })
    .await
}
