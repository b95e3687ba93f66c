use actix_web::web;
use nosebook_schema::ids::PostId;
use nosebook_schema::queries::posts;
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};
use crate::api::wire::Created;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RemovePost {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
}

enum Refusal {
    Missing,
    NotYours,
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
    let (me, now) = (caller.user.id, state.clock.now());
    let mut conn = state.db.get().await?;
    let outcome = conn
        .transaction(async |conn| {
            let Some(post) = posts::find_live_for_update(conn, id).await? else {
                return Ok(Err(Refusal::Missing));
            };
            if post.author_id != me && post.owner_id != me {
                return Ok(Err(Refusal::NotYours));
            }
            posts::mark_removed(conn, id, now).await?;
            Ok::<_, DbError>(Ok(()))
        })
        .await?;
    match outcome {
        Ok(()) => Ok(Reply::Data(Created { id: id.0 })),
        Err(Refusal::Missing) => Err(ApiError::not_found("PostingError", "Такого поста не существует")),
        Err(Refusal::NotYours) => {
            Err(ApiError::forbidden("PostError", "Только автор и владелец поста может его удалить"))
        }
    }
}
