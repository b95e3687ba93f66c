//! Likes of posts and comments: toggles (API.md §5.5).

pub mod comment;
pub mod post;

use nosebook_schema::ids::{CommentId, PostId};
use nosebook_schema::queries::likes::{self, Likes};
use nosebook_schema::queries::{comments, posts};
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::ApiError;
use crate::api::input::go_uuid;
use crate::events::{Event, Liked};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ToggleLike {
    /// The post's or comment's id.
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
}

/// Flips the caller's like of a live post or comment; `None` when there is no such live thing.
/// The target is held (`FOR SHARE`) until the toggle commits, so it cannot be removed meanwhile.
/// A new like of someone else's post or comment queues `post_liked`/`comment_liked` for its
/// author in the same transaction.
async fn toggle(state: &AppState, caller: &SignedIn, kind: Likes, target: Uuid) -> Result<Option<bool>, ApiError> {
    let me = caller.user.id;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let outcome = conn
        .transaction(async |conn| {
            let found = match kind {
                Likes::Posts => {
                    posts::find_live_for_share(conn, PostId(target)).await?.map(|p| (p.author_id, p.message))
                }
                Likes::Comments => {
                    comments::find_live_for_share(conn, CommentId(target)).await?.map(|c| (c.author_id, c.message))
                }
            };
            let Some((author, message)) = found else {
                return Ok(None);
            };
            let liked = likes::toggle(conn, kind, target, me, now).await?;
            let notify = liked && author != me;
            // The liker is shown only to someone else, so only then is the view built.
            if notify && let Some(liker) = state.present_user(caller.user.clone()).await {
                let liked = Liked { id: target, message, liker };
                let event = match kind {
                    Likes::Posts => Event::PostLiked(liked),
                    Likes::Comments => Event::CommentLiked(liked),
                };
                event.queue(conn, &[author]).await?;
            }
            Ok::<_, DbError>(Some((liked, notify)))
        })
        .await?;
    if let Some((_, true)) = outcome {
        state.events_committed();
    }
    Ok(outcome.map(|(liked, _)| liked))
}
