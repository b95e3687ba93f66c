use actix_web::web;
use nosebook_core::chats;
use nosebook_core::state::AppState;
use nosebook_events::wire::Message;
use nosebook_schema::ids::MessageId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EditMessage {
    /// A message of yours.
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
    /// The new text: 1-4096 characters after trimming.
    #[schema(required = true, min_length = 1, max_length = 4096)]
    #[serde(deserialize_with = "string_or_null")]
    pub text: String,
}

/// Edit a message of yours (Added). It keeps when it was edited (`editedAt`); every member's
/// sockets get `message_updated`.
#[utoipa::path(post, path = "/messages/edit", tag = "chats",
    request_body(content = EditMessage, example = json!({"id": "5a7c0a1e-0c52-4d4e-9d49-6c1b2a0e3f10", "text": "Fixed it"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The message as it now is", body = Success<Message>),
        (status = 400, description = "Bad JSON, id or text", body = Failure),
        (status = 403, description = "Not its author, or no longer a member of its chat (`Conversation Error`), or not signed in", body = Failure),
        (status = 404, description = "No such message, or it was removed (`Conversation Error`)", body = Failure),
    ))]
pub async fn edit(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<EditMessage>,
) -> ApiResult<Message> {
    let id = MessageId(required_id(cmd.id, "id")?);
    let text = nosebook_core::text(&cmd.text, "text")?;
    Ok(Reply::Data(chats::edit_message(&state, &caller, id, &text).await?))
}
