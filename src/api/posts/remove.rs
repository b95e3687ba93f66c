use actix_web::web;
use nosebook_core::posts;
use nosebook_core::state::AppState;
use nosebook_events::wire::Created;
use nosebook_schema::ids::PostId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RemovePost {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
}

/// Remove a post (soft delete). The author and the wall's owner may.
#[utoipa::path(post, path = "/posts/remove", tag = "posts", 
    request_body(content = RemovePost, example = json!({"id": "27b7bf17-38f9-4ed5-b0a8-501a90f7c8e7"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The removed post's id", body = Success<Created>),
        (status = 400, description = "Bad JSON or id", body = Failure),
        (status = 403, description = "Neither author nor wall owner (`PostError`), or not signed in", body = Failure),
        (status = 404, description = "No such live post (`PostingError`)", body = Failure),
    ))]
pub async fn remove(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<RemovePost>,
) -> ApiResult<Created> {
    let id = PostId(required_id(cmd.id, "id")?);
    posts::remove(&state, &caller, id).await?;
    Ok(Reply::Data(Created { id: id.0 }))
}
