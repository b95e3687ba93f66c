use actix_web::web;
use nosebook_schema::queries::users;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;
use crate::api::wire::{PageOf, User};
use crate::state::AppState;

/// Fixed page size of the search (API.md §3).
const PAGE_SIZE: usize = 20;
const MAX_TEXT_CHARS: usize = 256;

/// Find people by first name, last name or nick: a case-insensitive substring match, newest
/// accounts first. `%` and `_` match themselves.
#[utoipa::path(get, path = "/users", tag = "users",
    security(("session" = [])),
    params(
        ("text" = Option<String>, Query, description = "What to look for; empty finds nobody", example = "test"),
        ("next" = Option<String>, Query, description = "Cursor from the previous page"),
    ),
    responses(
        (status = 200, description = "A page of 20 users at most", body = Success<PageOf<User>>),
        (status = 400, description = "Bad cursor or text too long (`User Presenter Error`)", body = Failure),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
    ))]
pub async fn search_users(_: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<PageOf<User>> {
    const KIND: &str = "User Presenter Error";
    let text = query.first("text").unwrap_or_default();
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::bad_input(KIND, format!("text must be at most {MAX_TEXT_CHARS} characters")));
    }
    let after = query.cursor("next", KIND)?;
    if text.is_empty() {
        return Ok(Reply::Data(PageOf::empty()));
    }
    let page = {
        let mut conn = state.db.get().await?;
        users::search(&mut conn, text, after, PAGE_SIZE).await?
    };
    let next = page.next.map(|c| c.to_string());
    let data = state.present_users(page.rows).await;
    Ok(Reply::Data(PageOf { data, total_count: page.total_count, next, prev: None }))
}
