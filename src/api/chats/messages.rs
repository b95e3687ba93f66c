use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, chats};
use nosebook_events::wire::{Message, PageOf};
use nosebook_schema::ids::ChatId;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;

/// Messages of a chat you are a member of, newest first; `next` pages to older ones, `prev`
/// back to newer ones.
#[utoipa::path(get, path = "/messages", tag = "chats",
    security(("session" = [])),
    params(
        ("chatId" = uuid::Uuid, Query, description = "The chat (required)"),
        ("limit" = Option<u32>, Query, description = "Page size, default 10, at most 20"),
        ("next" = Option<String>, Query, description = "Older than this cursor"),
        ("prev" = Option<String>, Query, description = "Newer than this cursor"),
    ),
    responses(
        (status = 200, description = "A page of messages", body = Success<PageOf<Message>>),
        (status = 400, description = "Missing or bad chatId, bad limit or cursor (`Message Presenter Error`)", body = Failure),
        (status = 403, description = "Not a member (`Message Presenter Error`), or not signed in", body = Failure),
    ))]
pub async fn list(caller: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<PageOf<Message>> {
    const KIND: Kind = Kind::MessagePresenter;
    let chat = ChatId(query.required_id("chatId", KIND)?);
    let limit = query.limit(KIND)?;
    let position = query.newest_first(KIND)?;
    Ok(Reply::Data(chats::messages(&state, &caller, chat, position, limit).await?))
}
