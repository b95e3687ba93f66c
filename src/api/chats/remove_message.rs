use actix_web::web;
use nosebook_core::chats;
use nosebook_core::state::AppState;
use nosebook_events::wire::Created;
use nosebook_schema::ids::MessageId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct RemoveMessage {
    /// A message of yours.
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
}

/// Remove a message of yours (Added). It leaves the history and the chat list (which shows the
/// newest message left); every member's sockets get `message_removed`.
#[utoipa::path(post, path = "/messages/remove", tag = "chats",
    request_body(content = RemoveMessage, example = json!({"id": "5a7c0a1e-0c52-4d4e-9d49-6c1b2a0e3f10"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The removed message's id", body = Success<Created>),
        (status = 400, description = "Bad JSON or id", body = Failure),
        (status = 403, description = "Not its author, or no longer a member of its chat (`Conversation Error`), or not signed in", body = Failure),
        (status = 404, description = "No such message, or it was removed already (`Conversation Error`)", body = Failure),
    ))]
pub async fn remove(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<RemoveMessage>,
) -> ApiResult<Created> {
    let id = MessageId(required_id(cmd.id, "id")?);
    chats::remove_message(&state, &caller, id).await?;
    Ok(Reply::Data(Created { id: id.0 }))
}
