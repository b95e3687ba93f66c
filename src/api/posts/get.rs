use actix_web::web;
use nosebook_core::posts;
use nosebook_core::state::AppState;
use nosebook_events::wire::Post;
use nosebook_schema::ids::{PostId, parse_go_uuid};

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};

/// One live post. Unknown, removed and malformed ids all answer `data: null`, as the original.
#[utoipa::path(get, path = "/posts/{id}", tag = "posts",
    security(("session" = [])),
    params(("id" = uuid::Uuid, Path, description = "Post id", example = "c7b7bf17-38f9-4ed5-b0a8-501a90f7c8e7")),
    responses(
        (status = 200, description = "The post, or `data: null`", body = Success<Option<Post>>),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn get(caller: SignedIn, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<Post> {
    let Ok(id) = parse_go_uuid(&id).map(PostId) else {
        return Ok(Reply::Null);
    };
    Ok(posts::get(&state, &caller, id).await?.map_or(Reply::Null, Reply::Data))
}
