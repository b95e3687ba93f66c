use actix_web::web;
use nosebook_core::likes::{self, Target};
use nosebook_core::state::AppState;
use nosebook_schema::ids::CommentId;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ToggleLike;
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, required_id};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentLike {
    pub comment_id: Uuid,
    /// The caller's like after the toggle.
    pub liked: bool,
}

/// Like a live comment, or take the like back.
#[utoipa::path(post, path = "/like/comment", tag = "likes", 
    request_body(content = ToggleLike, example = json!({"id": "d0023f4d-8d7f-4907-9438-d2ed2a9661f0"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The new state", body = Success<CommentLike>),
        (status = 400, description = "Bad JSON or id", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "No such live comment (`LikeError`)", body = Failure),
    ))]
pub async fn like_comment(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<ToggleLike>,
) -> ApiResult<CommentLike> {
    let comment = CommentId(required_id(cmd.id, "id")?);
    let liked = likes::toggle(&state, &caller, Target::Comment(comment)).await?;
    Ok(Reply::Data(CommentLike { comment_id: comment.0, liked }))
}
