use actix_web::web;
use nosebook_schema::ids::ChatId;
use nosebook_schema::queries::chats;
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{announce, member_group};
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};
use crate::state::AppState;

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
    let me = caller.user.id;
    let mut conn = state.db.get().await?;
    let group = member_group(&mut conn, chat, me).await?;
    conn.transaction(async |conn| {
        chats::remove_member(conn, chat, me).await?;
        announce(&state, conn, me, group, Some(me)).await?;
        Ok::<_, DbError>(())
    })
    .await?;
    state.events_committed();
    Ok(Reply::Data(true))
}
