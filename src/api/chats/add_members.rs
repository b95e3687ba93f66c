use actix_web::web;
use nosebook_core::chats;
use nosebook_core::state::AppState;
use nosebook_events::wire::Chat;
use nosebook_schema::ids::{ChatId, UserId};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct AddMembers {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub chat_id: Uuid,
    /// At most 200; those already in are ignored.
    #[schema(max_items = 200)]
    pub user_ids: Vec<Uuid>,
}

/// Add people to a group you are in. Every member, old and new, gets `chat_updated`.
#[utoipa::path(post, path = "/chats/add-members", tag = "chats", request_body = AddMembers,
    security(("session" = [])),
    responses(
        (status = 200, description = "The group as it now is", body = Success<Chat>),
        (status = 400, description = "Bad JSON, a private chat, too many users", body = Failure),
        (status = 403, description = "Not a member (`Conversation Error`), or not signed in", body = Failure),
        (status = 404, description = "A user does not exist (`Conversation Error`)", body = Failure),
    ))]
pub async fn add_members(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<AddMembers>,
) -> ApiResult<Chat> {
    let chat = ChatId(required_id(cmd.chat_id, "chatId")?);
    let users: Vec<UserId> = cmd.user_ids.into_iter().map(UserId).collect();
    Ok(Reply::Data(chats::add_members(&state, &caller, chat, &users).await?))
}
