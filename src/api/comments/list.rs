use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, comments};
use nosebook_events::wire::{Comment, PageOf};
use nosebook_schema::ids::PostId;
use nosebook_schema::queries::comments::Position;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Direction, QueryParams};

/// Live comments of a post, oldest first, five a page. `next` pages forward, `prev` to the page
/// just before its cursor, `last=true` gives the newest page (still oldest first).
#[utoipa::path(get, path = "/comments", tag = "comments",
    security(("session" = [])),
    params(
        ("postId" = uuid::Uuid, Query, description = "The post (required)", example = "c7b7bf17-38f9-4ed5-b0a8-501a90f7c8e7"),
        ("next" = Option<String>, Query, description = "Page after this cursor"),
        ("prev" = Option<String>, Query, description = "Page before this cursor"),
        ("last" = Option<bool>, Query, description = "`true`: the last page"),
    ),
    responses(
        (status = 200, description = "A page of comments", body = Success<PageOf<Comment>>),
        (status = 400, description = "Missing or bad postId, bad cursor, next with prev (`Comment Presenter Error`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn list(caller: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<PageOf<Comment>> {
    const KIND: Kind = Kind::CommentPresenter;
    let post = PostId(query.required_id("postId", KIND)?);
    // `last=true` wins over any cursor, as in the original.
    let position = if query.is_true("last") == Some(true) {
        Position::Last
    } else {
        match query.direction(KIND)? {
            Direction::Next(cursor) => Position::After(cursor),
            Direction::Prev(cursor) => Position::Before(cursor),
            Direction::Start => Position::First,
        }
    };
    Ok(Reply::Data(comments::page(&state, &caller, post, position).await?))
}
