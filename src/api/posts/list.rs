use actix_web::web;
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::posts::{self, PostFilter};

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;
use crate::api::present::Presenter;
use crate::api::wire::{PageOf, Post};
use crate::state::AppState;

/// Fixed page size of walls (API.md §3).
const PAGE_SIZE: usize = 10;
const KIND: &str = "Post Presenter Error";

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
    let filter =
        PostFilter { owner: query.id("ownerId", KIND)?.map(UserId), author: query.id("authorId", KIND)?.map(UserId) };
    if filter.owner.is_none() && filter.author.is_none() {
        return Err(ApiError::bad_input(KIND, "Отсутствует фильтр"));
    }
    let after = query.cursor("cursor", KIND)?;
    let mut conn = state.db.get().await?;
    let page = posts::page(&mut conn, filter, after, PAGE_SIZE).await.map_err(nosebook_schema::DbError::from)?;
    let next = page.next.map(|c| c.to_string());
    let data = Presenter::new(&state, caller.user.id).posts(&mut conn, page.rows).await?;
    Ok(Reply::Data(PageOf { data, total_count: page.total_count, next, prev: None }))
}
