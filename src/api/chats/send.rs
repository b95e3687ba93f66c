use actix_web::web;
use nosebook_core::Kind;
use nosebook_core::chats::{self, To};
use nosebook_core::state::AppState;
use nosebook_schema::ids::{ChatId, MessageId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct SendMessageCommand {
    /// To a person: their private chat with you, created by the first message. Or:
    #[serde(deserialize_with = "go_uuid")]
    pub recipient_id: Uuid,
    /// To any chat you are a member of (private or group).
    #[serde(deserialize_with = "go_uuid")]
    pub chat_id: Uuid,
    /// 1-4096 characters after trimming.
    #[schema(required = true, min_length = 1, max_length = 4096)]
    #[serde(deserialize_with = "string_or_null")]
    pub text: String,
    /// A message of the same chat this one answers.
    #[serde(deserialize_with = "go_uuid")]
    pub reply_to: Uuid,
}

/// Send a message to a person (`recipientId`) or to a chat (`chatId`). Every member's sockets
/// get `new_message`, the sender's included.
#[utoipa::path(post, path = "/conversations/send-message", tag = "chats", 
    request_body(content = SendMessageCommand, example = json!({"recipientId": "2db640fd-7aa4-4bba-8ee6-3935b700297a", "text": "Hello!"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "Sent (`data: true`, as the original)", body = Success<bool>),
        (status = 400, description = "Bad JSON, text, both or neither target, message to yourself, bad replyTo", body = Failure),
        (status = 403, description = "Not a member of that chat (`Conversation Error`), or not signed in", body = Failure),
        (status = 404, description = "No such recipient (`Conversation Error`)", body = Failure),
    ))]
pub async fn send(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<SendMessageCommand>,
) -> ApiResult<bool> {
    const KIND: Kind = Kind::Conversation;
    let text = nosebook_core::text(&cmd.text, "text")?;
    let to = match (cmd.recipient_id.is_nil(), cmd.chat_id.is_nil()) {
        (false, false) => return Err(ApiError::bad_input(KIND, "Give recipientId or chatId, not both")),
        (true, true) => return Err(ApiError::bad_input(KIND, "recipientId or chatId is required")),
        (true, false) => To::Chat(ChatId(cmd.chat_id)),
        (false, true) => To::Person(UserId(cmd.recipient_id)),
    };
    let reply_to = Some(MessageId(cmd.reply_to)).filter(|r| !r.0.is_nil());
    chats::send(&state, &caller, chats::Outgoing { to, text, reply_to }).await?;
    Ok(Reply::Data(true))
}
