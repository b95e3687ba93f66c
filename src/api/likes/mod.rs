//! Likes of posts and comments: toggles (API.md §5.5).

pub mod comment;
pub mod post;

use nosebook_schema::ids::{CommentId, PostId, UserId};
use nosebook_schema::queries::likes::{self, Likes};
use nosebook_schema::queries::{comments, posts};
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::envelope::ApiError;
use crate::api::input::go_uuid;
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
async fn toggle(
    state: &AppState,
    me: UserId,
    kind: Likes,
    target: Uuid,
) -> Result<Option<bool>, ApiError> {
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let liked = conn
        .transaction(async |conn| {
            let live = match kind {
                Likes::Posts => posts::find_live_for_share(conn, PostId(target))
                    .await?
                    .is_some(),
                Likes::Comments => comments::find_live_for_share(conn, CommentId(target))
                    .await?
                    .is_some(),
            };
            if !live {
                return Ok(None);
            }
            Ok::<_, DbError>(Some(likes::toggle(conn, kind, target, me, now).await?))
        })
        .await?;
    Ok(liked)
}
