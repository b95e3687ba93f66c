use actix_web::web;
use nosebook_core::Kind;
use nosebook_core::chats::{self, ChatFilter};
use nosebook_core::state::AppState;
use nosebook_events::wire::{Chat, PageOf};
use nosebook_schema::ids::UserId;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;

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
    const KIND: Kind = Kind::CursorQuery;
    let interlocutor = query.id("interlocutorId", Kind::Unknown)?.map(UserId);
    let limit = query.limit(KIND)?;
    let after = query.cursor("next", KIND)?;
    Ok(Reply::Data(chats::list(&state, &caller, ChatFilter { interlocutor, after, limit }).await?))
}
