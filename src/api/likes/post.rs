use actix_web::web;
use nosebook_core::likes::{self, Target};
use nosebook_core::state::AppState;
use nosebook_schema::ids::PostId;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ToggleLike;
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, required_id};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostLike {
    pub post_id: Uuid,
    /// The caller's like after the toggle.
    pub liked: bool,
}

/// Like a live post, or take the like back.
#[utoipa::path(post, path = "/like/post", tag = "likes", 
    request_body(content = ToggleLike, example = json!({"id": "c7b7bf17-38f9-4ed5-b0a8-501a90f7c8e8"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The new state", body = Success<PostLike>),
        (status = 400, description = "Bad JSON or id", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "No such live post (`LikeError`)", body = Failure),
    ))]
pub async fn like_post(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<ToggleLike>,
) -> ApiResult<PostLike> {
    let post = PostId(required_id(cmd.id, "id")?);
    let liked = likes::toggle(&state, &caller, Target::Post(post)).await?;
    Ok(Reply::Data(PostLike { post_id: post.0, liked }))
}
