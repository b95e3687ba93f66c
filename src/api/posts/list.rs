use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, posts};
use nosebook_events::wire::{PageOf, Post};
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::posts::PostFilter;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;

/// Live posts on a wall and/or by an author, newest first, ten a page.
#[utoipa::path(get, path = "/posts", tag = "posts",
    security(("session" = [])),
    params(
        ("ownerId" = Option<uuid::Uuid>, Query, description = "Whose wall", example = "1ae02f69-ea1a-4308-b825-0e5896e652e4"),
        ("authorId" = Option<uuid::Uuid>, Query, description = "Who wrote them (AND with ownerId)"),
        ("cursor" = Option<String>, Query, description = "`next` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of posts", body = Success<PageOf<Post>>),
        (status = 400, description = "No filter, bad id or bad cursor (`Post Presenter Error`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn list(caller: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<PageOf<Post>> {
    const KIND: Kind = Kind::PostPresenter;
    let filter =
        PostFilter { owner: query.id("ownerId", KIND)?.map(UserId), author: query.id("authorId", KIND)?.map(UserId) };
    // Without a filter the page is refused before the cursor is read, as by the original.
    let after = match (filter.owner, filter.author) {
        (None, None) => None,
        _ => query.cursor("cursor", KIND)?,
    };
    Ok(Reply::Data(posts::page(&state, &caller, filter, after).await?))
}
