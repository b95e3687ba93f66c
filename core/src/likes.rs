//! Likes of posts and comments (docs/API.md §5.5): a toggle; the author hears of a like by
//! someone else.

use nosebook_actors::Caller;
use nosebook_events::{Event, Liked};
use nosebook_schema::ids::{CommentId, PostId};
use nosebook_schema::queries::likes::{self, Likes};
use nosebook_schema::queries::{comments, posts};
use nosebook_schema::{AsyncConnection, DbError};

use super::{CoreError, CoreResult, Kind};
use crate::state::AppState;

/// What is liked.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Post(PostId),
    Comment(CommentId),
}

/// Likes `target` if the caller did not, else takes the like back; `true` when it is now liked.
pub async fn toggle(state: &AppState, caller: &Caller, target: Target) -> CoreResult<bool> {
    let me = caller.user.id;
    let now = state.clock.now();
    let (kind, id) = match target {
        Target::Post(id) => (Likes::Posts, id.0),
        Target::Comment(id) => (Likes::Comments, id.0),
    };
    let mut conn = state.change_conn().await?;
    let outcome = conn
        .transaction(async |conn| {
            let found = match target {
                Target::Post(id) => posts::find_live_for_share(conn, id).await?.map(|p| (p.author_id, p.message)),
                Target::Comment(id) => comments::find_live_for_share(conn, id).await?.map(|c| (c.author_id, c.message)),
            };
            let Some((author, message)) = found else {
                return Ok(None);
            };
            let liked = likes::toggle(conn, kind, id, me, now).await?;
            let notify = liked && author != me;
            // The liker is shown only to someone else, so only then is the view built.
            if notify {
                let liker = state.present_caller(caller.user.clone());
                let liked = Liked { id, message, liker };
                let event = match target {
                    Target::Post(_) => Event::PostLiked(liked),
                    Target::Comment(_) => Event::CommentLiked(liked),
                };
                event.queue(conn, &[author]).await?;
            }
            Ok::<_, DbError>(Some(liked))
        })
        .await?;
    match outcome {
        Some(liked) => Ok(liked),
        None => Err(CoreError::not_found(
            Kind::Like,
            match target {
                Target::Post(_) => "Такого поста не существует",
                Target::Comment(_) => "Такого комментария не существует",
            },
        )),
    }
}
