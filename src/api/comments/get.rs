use actix_web::web;
use nosebook_schema::ids::{CommentId, parse_go_uuid};
use nosebook_schema::paging::Page;
use nosebook_schema::queries::comments;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::present::Presenter;
use crate::api::wire::Comment;
use crate::state::AppState;

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
    let mut conn = state.db.get().await?;
    let Some(comment) = comments::find_shown(&mut conn, id).await? else {
        return Ok(Reply::Null);
    };
    let page = Page { rows: vec![comment], total_count: 1, next: None, prev: None };
    let mut shown = Presenter::new(&state, caller.user.id).comments(&mut conn, page).await?;
    Ok(shown.data.pop().map_or(Reply::Null, Reply::Data))
}
