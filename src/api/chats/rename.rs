use actix_web::web;
use nosebook_core::chats;
use nosebook_core::state::AppState;
use nosebook_events::wire::Chat;
use nosebook_schema::ids::ChatId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct RenameGroup {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub chat_id: Uuid,
    /// 1-128 characters after trimming.
    #[schema(required = true, min_length = 1, max_length = 128)]
    #[serde(deserialize_with = "string_or_null")]
    pub title: String,
}

/// Rename a group you are in. Every member gets `chat_updated`.
#[utoipa::path(post, path = "/chats/rename", tag = "chats", request_body = RenameGroup,
    security(("session" = [])),
    responses(
        (status = 200, description = "The group as it now is", body = Success<Chat>),
        (status = 400, description = "Bad JSON or title, a private chat", body = Failure),
        (status = 403, description = "Not a member (`Conversation Error`), or not signed in", body = Failure),
    ))]
pub async fn rename(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<RenameGroup>,
) -> ApiResult<Chat> {
    let chat = ChatId(required_id(cmd.chat_id, "chatId")?);
    Ok(Reply::Data(chats::rename(&state, &caller, chat, &cmd.title).await?))
}
