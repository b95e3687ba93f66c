use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, chats};
use nosebook_events::wire::ReadMark;
use nosebook_schema::ids::ChatId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, parse_id, required_id};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ReadChat {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub chat_id: Uuid,
}

/// Mark a chat read up to its newest message (Added). When that moves your read mark, every
/// member's sockets (your other ones too) get `messages_read`; reading again changes nothing.
#[utoipa::path(post, path = "/chats/read", tag = "chats", request_body = ReadChat,
    security(("session" = [])),
    responses(
        (status = 200, description = "Read (`data: true`)", body = Success<bool>),
        (status = 400, description = "Bad JSON or chatId", body = Failure),
        (status = 403, description = "Not a member (`Conversation Error`), or not signed in", body = Failure),
    ))]
pub async fn read(caller: SignedIn, state: web::Data<AppState>, Command(cmd): Command<ReadChat>) -> ApiResult<bool> {
    let chat = ChatId(required_id(cmd.chat_id, "chatId")?);
    chats::read(&state, &caller, chat).await?;
    Ok(Reply::Data(true))
}

/// How far each member has read a chat of yours (Added), in joining order: the message they had
/// seen last (`upTo`, null if they never read it). Private chats show ticks, groups "seen by N".
#[utoipa::path(get, path = "/chats/{id}/reads", tag = "chats",
    security(("session" = [])),
    params(("id" = uuid::Uuid, Path, description = "Chat id")),
    responses(
        (status = 200, description = "Every member's read mark", body = Success<Vec<ReadMark>>),
        (status = 400, description = "Not a UUID (`Unknown`)", body = Failure),
        (status = 403, description = "Not a member (`Conversation Error`), or not signed in", body = Failure),
    ))]
pub async fn reads(caller: SignedIn, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<Vec<ReadMark>> {
    let chat = ChatId(parse_id(&id, Kind::Unknown)?);
    Ok(Reply::Data(chats::reads(&state, &caller, chat).await?))
}
