use actix_web::web;
use nosebook_schema::ids::ChatId;
use nosebook_schema::queries::chats;
use nosebook_schema::queries::messages::{self, Position};

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Direction, QueryParams};
use crate::api::present::Presenter;
use crate::api::wire::{Message, PageOf};
use crate::state::AppState;

const KIND: &str = "Message Presenter Error";

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
    let chat = ChatId(query.required_id("chatId", KIND)?);
    let limit = query.limit(KIND)?;
    let position = match query.direction(KIND)? {
        Direction::Next(cursor) => Position::Older(cursor),
        Direction::Prev(cursor) => Position::Newer(cursor),
        Direction::Start => Position::Newest,
    };
    let mut conn = state.db.get().await?;
    if !chats::is_member(&mut conn, chat, caller.user.id).await? {
        return Err(ApiError::forbidden(KIND, "You are not a member of this chat"));
    }
    let page = messages::page(&mut conn, chat, position, limit).await?;
    let data = Presenter::new(&state, caller.user.id).messages(&mut conn, &page.rows).await?;
    Ok(Reply::Data(PageOf {
        data,
        total_count: page.total_count,
        next: page.next.map(|c| c.to_string()),
        prev: page.prev.map(|c| c.to_string()),
    }))
}
