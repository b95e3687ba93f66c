use actix_web::web;
use nosebook_core::comments;
use nosebook_core::state::AppState;
use nosebook_events::wire::Created;
use nosebook_schema::ids::CommentId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RemoveComment {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
}

/// Remove a comment (soft delete). Its author and the owner of the wall it is on may.
#[utoipa::path(post, path = "/comments/remove", tag = "comments", 
    request_body(content = RemoveComment, example = json!({"id": "120c79b8-3927-48b7-a308-1ffd3db6036f"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The removed comment's id", body = Success<Created>),
        (status = 400, description = "Bad JSON or id", body = Failure),
        (status = 403, description = "Not permitted (`Comment Permissions Error`), or not signed in", body = Failure),
        (status = 404, description = "No such comment on a post (`CommentError`)", body = Failure),
        (status = 409, description = "Already removed (`Comment Error`)", body = Failure),
    ))]
pub async fn remove(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<RemoveComment>,
) -> ApiResult<Created> {
    let id = CommentId(required_id(cmd.id, "id")?);
    comments::remove(&state, &caller, id).await?;
    Ok(Reply::Data(Created { id: id.0 }))
}
