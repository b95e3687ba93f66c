use actix_web::web;
use nosebook_schema::ids::{ChatId, UserId};
use nosebook_schema::queries::chats;
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{KIND, MAX_NEW_MEMBERS, announce, member_group, missing_users};
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};
use crate::api::wire::Chat;
use crate::state::AppState;

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
    if users.len() > MAX_NEW_MEMBERS {
        return Err(ApiError::bad_input(KIND, format!("At most {MAX_NEW_MEMBERS} members at once")));
    }
    let me = caller.user.id;
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let group = member_group(&mut conn, chat, me).await?;
    let updated = conn
        .transaction(async |conn| {
            if let Some(missing) = missing_users(conn, &users).await?.first() {
                return Ok(Err(*missing));
            }
            chats::add_members(conn, chat, &users, now).await?;
            Ok::<_, DbError>(Ok(announce(&state, conn, me, group, None).await?))
        })
        .await?;
    match updated {
        Ok(chat) => {
            state.events_committed();
            Ok(Reply::Data(chat))
        }
        Err(missing) => Err(ApiError::not_found(KIND, format!("Пользователь с id:{missing} отсуствует"))),
    }
}
