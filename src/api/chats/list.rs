use actix_web::web;
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::chats;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;
use crate::api::present::Presenter;
use crate::api::wire::{Chat, PageOf};
use crate::state::AppState;

/// The caller's chats, newest activity first.
#[utoipa::path(get, path = "/chats", tag = "chats",
    security(("session" = [])),
    params(
        ("interlocutorId" = Option<uuid::Uuid>, Query, description = "Only the private chat with this user"),
        ("limit" = Option<u32>, Query, description = "Page size, default 10, at most 20"),
        ("next" = Option<String>, Query, description = "Cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of chats", body = Success<PageOf<Chat>>),
        (status = 400, description = "Bad interlocutorId (`Unknown`), limit or cursor (`Cursor Query Error`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn list(caller: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<PageOf<Chat>> {
    const KIND: &str = "Cursor Query Error";
    let interlocutor = query.id("interlocutorId", "Unknown")?.map(UserId);
    let limit = query.limit(KIND)?;
    let after = query.cursor("next", KIND)?;
    let mut conn = state.db.get().await?;
    let page = chats::list_for(&mut conn, caller.user.id, interlocutor, after, limit).await?;
    let next = page.next.map(|c| c.to_string());
    let data = Presenter::new(&state, caller.user.id).chats(&mut conn, page.rows).await?;
    Ok(Reply::Data(PageOf { data, total_count: page.total_count, next, prev: None }))
}
