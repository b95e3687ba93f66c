use actix_web::web;
use nosebook_core::chats;
use nosebook_core::state::AppState;
use nosebook_schema::ids::ChatId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct LeaveGroup {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub chat_id: Uuid,
}

/// Leave a group. The remaining members and you get `chat_updated` (without you in `members`).
#[utoipa::path(post, path = "/chats/leave", tag = "chats", request_body = LeaveGroup,
    security(("session" = [])),
    responses(
        (status = 200, description = "Left (`data: true`)", body = Success<bool>),
        (status = 400, description = "Bad JSON, a private chat", body = Failure),
        (status = 403, description = "Not a member (`Conversation Error`), or not signed in", body = Failure),
    ))]
pub async fn leave(caller: SignedIn, state: web::Data<AppState>, Command(cmd): Command<LeaveGroup>) -> ApiResult<bool> {
    let chat = ChatId(required_id(cmd.chat_id, "chatId")?);
    chats::leave(&state, &caller, chat).await?;
    Ok(Reply::Data(true))
}
