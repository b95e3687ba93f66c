use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::typing;
use nosebook_schema::ids::ChatId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct TypingIn {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub chat_id: Uuid,
}

/// Tell a chat you are typing (Added). The other members' sockets get `typing` (not yours); at
/// most once per 3 s per person and chat, so clients may call it on every keystroke. Not stored;
/// clients show it for about 6 s after the last one.
#[utoipa::path(post, path = "/chats/typing", tag = "chats", request_body = TypingIn,
    security(("session" = [])),
    responses(
        (status = 200, description = "Told (`data: true`), or told a moment ago", body = Success<bool>),
        (status = 400, description = "Bad JSON or chatId", body = Failure),
        (status = 403, description = "Not a member (`Conversation Error`), or not signed in", body = Failure),
    ))]
pub async fn typing(caller: SignedIn, state: web::Data<AppState>, Command(cmd): Command<TypingIn>) -> ApiResult<bool> {
    let chat = ChatId(required_id(cmd.chat_id, "chatId")?);
    typing::typing(&state, &caller, chat).await?;
    Ok(Reply::Data(true))
}
