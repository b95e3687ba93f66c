use actix_web::web;
use nosebook_core::comments;
use nosebook_core::state::AppState;
use nosebook_events::wire::Comment;
use nosebook_schema::ids::{CommentId, parse_go_uuid};

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};

/// One live comment that is on a post. Anything else answers `data: null`, as the original.
#[utoipa::path(get, path = "/comments/{id}", tag = "comments",
    security(("session" = [])),
    params(("id" = uuid::Uuid, Path, description = "Comment id", example = "120c79b8-3927-48b7-a308-1ffd3db6036f")),
    responses(
        (status = 200, description = "The comment, or `data: null`", body = Success<Option<Comment>>),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn get(caller: SignedIn, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<Comment> {
    let Ok(id) = parse_go_uuid(&id).map(CommentId) else {
        return Ok(Reply::Null);
    };
    Ok(comments::get(&state, &caller, id).await?.map_or(Reply::Null, Reply::Data))
}
