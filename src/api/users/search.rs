use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, users};
use nosebook_events::wire::{PageOf, User};

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;

/// Find people by first name, last name or nick, in either alphabet: a case-insensitive
/// substring match (a word start for one or two letters); friends first, then friends of
/// friends, then everyone else, each newest account first. `%` and `_` match themselves.
#[utoipa::path(get, path = "/users", tag = "users",
    security(("session" = [])),
    params(
        ("text" = Option<String>, Query, description = "What to look for; empty finds nobody", example = "test"),
        ("next" = Option<String>, Query, description = "Cursor from the previous page"),
    ),
    responses(
        (status = 200, description = "A page of 20 users at most; totalCount is exact up to 1,000, then 1,000", body = Success<PageOf<User>>),
        (status = 400, description = "Bad cursor or text too long (`User Presenter Error`)", body = Failure),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
    ))]
pub async fn search_users(caller: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<PageOf<User>> {
    const KIND: Kind = Kind::UserPresenter;
    let text = query.first("text").unwrap_or_default();
    if text.chars().count() > users::MAX_SEARCH_CHARS {
        return Err(ApiError::bad_input(KIND, format!("text must be at most {} characters", users::MAX_SEARCH_CHARS)));
    }
    let after = query.non_empty("next").map(users::search_cursor).transpose()?;
    Ok(Reply::Data(users::search(&state, caller.user.id, text, after).await?))
}
