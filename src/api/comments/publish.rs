use actix_web::web;
use nosebook_core::comments;
use nosebook_core::state::AppState;
use nosebook_events::wire::Created;
use nosebook_schema::ids::PostId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct PublishComment {
    /// The post's id (the original names it `id`).
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
    /// 1-4096 characters after trimming.
    #[schema(required = true, min_length = 1, max_length = 4096)]
    #[serde(deserialize_with = "string_or_null")]
    pub message: String,
}

/// Comment on a live post.
#[utoipa::path(post, path = "/comments/publish-on-post", tag = "comments", 
    request_body(content = PublishComment, example = json!({"id": "c7b7bf17-38f9-4ed5-b0a8-501a90f7c8e7", "message": "Nice post"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The new comment's id", body = Success<Created>),
        (status = 400, description = "Bad JSON, missing id or bad message (`Unknown`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "No such live post (`CommentError`)", body = Failure),
    ))]
pub async fn publish(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<PublishComment>,
) -> ApiResult<Created> {
    let post = PostId(required_id(cmd.id, "id")?);
    let message = nosebook_core::text(&cmd.message, "message")?;
    let comment = comments::publish(&state, &caller, post, &message).await?;
    Ok(Reply::Data(Created { id: comment.id.0 }))
}
