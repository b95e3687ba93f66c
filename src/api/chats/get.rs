use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, chats};
use nosebook_events::wire::Chat;
use nosebook_schema::ids::ChatId;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, SuccessOrEmpty};
use crate::api::input::parse_id;

/// One chat of the caller. Anything else — not a member, unknown, a private chat without
/// messages — answers `{"ok":true}` with no `data`, as the original.
#[utoipa::path(get, path = "/chats/{id}", tag = "chats",
    security(("session" = [])),
    params(("id" = uuid::Uuid, Path, description = "Chat id")),
    responses(
        (status = 200, description = "The chat, or `{\"ok\":true}` without data", body = SuccessOrEmpty<Chat>),
        (status = 400, description = "Not a UUID (`Unknown`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn get(caller: SignedIn, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<Chat> {
    let id = ChatId(parse_id(&id, Kind::Unknown)?);
    Ok(chats::get(&state, &caller, id).await?.map_or(Reply::Empty, Reply::Data))
}
