use actix_web::web;
use nosebook_core::posts;
use nosebook_core::state::AppState;
use nosebook_events::wire::Created;
use nosebook_schema::ids::UserId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct PublishPost {
    /// Whose wall: yours or anyone else's.
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub owner_id: Uuid,
    /// 1-4096 characters after trimming.
    #[schema(required = true, min_length = 1, max_length = 4096)]
    #[serde(deserialize_with = "string_or_null")]
    pub message: String,
}

/// Write a post on a wall.
#[utoipa::path(post, path = "/posts/publish", tag = "posts", 
    request_body(content = PublishPost, example = json!({"ownerId": "ed1a3fd0-4d0b-4961-b4cd-cf212357740d", "message": "Hello, wall"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The new post's id", body = Success<Created>),
        (status = 400, description = "Bad JSON, missing owner or bad message (`Unknown`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "No such wall owner (`Unknown`)", body = Failure),
    ))]
pub async fn publish(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<PublishPost>,
) -> ApiResult<Created> {
    let owner = UserId(required_id(cmd.owner_id, "ownerId")?);
    let message = nosebook_core::text(&cmd.message, "message")?;
    let post = posts::publish(&state, &caller, owner, &message).await?;
    Ok(Reply::Data(Created { id: post.id.0 }))
}
