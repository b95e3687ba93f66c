use actix_web::web;
use nosebook_schema::ids::CommentId;
use nosebook_schema::queries::{comments, posts};
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
pub struct RemoveComment {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
}

enum Refusal {
    Missing,
    NotYours,
    AlreadyRemoved,
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
    let (me, now) = (caller.user.id, state.clock.now());
    let mut conn = state.db.get().await?;
    let outcome = conn
        .transaction(async |conn| {
            // The original's order of checks: exists on a post, permission, then state.
            let Some(comment) = comments::find_for_update(conn, id).await? else {
                return Ok(Err(Refusal::Missing));
            };
            let Some(post_id) = comment.post_id else {
                return Ok(Err(Refusal::Missing));
            };
            let wall_owner = posts::find_many(conn, &[post_id]).await?.first().map(|p| p.owner_id);
            if comment.author_id != me && wall_owner != Some(me) {
                return Ok(Err(Refusal::NotYours));
            }
            if comment.removed_at.is_some() {
                return Ok(Err(Refusal::AlreadyRemoved));
            }
            comments::mark_removed(conn, id, now).await?;
            Ok::<_, DbError>(Ok(()))
        })
        .await?;
    match outcome {
        Ok(()) => Ok(Reply::Data(Created { id: id.0 })),
        Err(Refusal::Missing) => Err(ApiError::not_found("CommentError", "Такого комментария не существует")),
        Err(Refusal::NotYours) => {
            Err(ApiError::forbidden("Comment Permissions Error", "Вы не можете удалить комментарий"))
        }
        Err(Refusal::AlreadyRemoved) => Err(ApiError::conflict("Comment Error", "Комментарий уже удален")),
    }
}
