use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, feed};
use nosebook_events::wire::{PageOf, Post};

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;

/// Live posts by the caller and the caller's friends, on whichever wall, newest first; `next`
/// pages to older ones, `prev` back to newer ones (posts written since the first page).
#[utoipa::path(get, path = "/feed", tag = "posts",
    security(("session" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "Page size, default 10, at most 20"),
        ("next" = Option<String>, Query, description = "Older than this cursor"),
        ("prev" = Option<String>, Query, description = "Newer than this cursor"),
    ),
    responses(
        (status = 200, description = "A page of posts; `totalCount` counts the live posts of the caller and the caller's friends, exactly up to 400 and 400 when there are more", body = Success<PageOf<Post>>),
        (status = 400, description = "Bad limit or cursor, or both `next` and `prev` (`Post Presenter Error`; a non-numeric limit: `Unknown`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn list(caller: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<PageOf<Post>> {
    const KIND: Kind = Kind::PostPresenter;
    let limit = query.limit(KIND)?;
    let position = query.newest_first(KIND)?;
    Ok(Reply::Data(feed::page(&state, &caller, position, limit).await?))
}
