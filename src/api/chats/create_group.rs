use actix_web::web;
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::chats;
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{KIND, MAX_NEW_MEMBERS, announce, missing_users, parse_title};
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, string_or_null};
use crate::api::wire::Chat;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateGroup {
    /// 1-128 characters after trimming.
    #[schema(required = true, min_length = 1, max_length = 128)]
    #[serde(deserialize_with = "string_or_null")]
    pub title: String,
    /// Who else is in it (you are added yourself); at most 200.
    #[schema(max_items = 200)]
    pub member_ids: Vec<Uuid>,
}

/// Create a group chat. Every member gets `chat_updated`.
#[utoipa::path(post, path = "/chats/create-group", tag = "chats", 
    request_body(content = CreateGroup, example = json!({"title": "Weekend", "memberIds": ["2db640fd-7aa4-4bba-8ee6-3935b700297a"]})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The new group", body = Success<Chat>),
        (status = 400, description = "Bad JSON, title or too many members", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "A member does not exist (`Conversation Error`)", body = Failure),
    ))]
pub async fn create_group(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<CreateGroup>,
) -> ApiResult<Chat> {
    let title = parse_title(&cmd.title)?;
    let me = caller.user.id;
    let mut members = vec![me];
    for id in cmd.member_ids.into_iter().map(UserId) {
        if !members.contains(&id) {
            members.push(id);
        }
    }
    if members.len() > MAX_NEW_MEMBERS + 1 {
        return Err(ApiError::bad_input(KIND, format!("At most {MAX_NEW_MEMBERS} members at once")));
    }
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let created = conn
        .transaction(async |conn| {
            if let Some(missing) = missing_users(conn, &members).await?.first() {
                return Ok(Err(*missing));
            }
            let chat = chats::create_group(conn, &title, &members, now).await?;
            Ok::<_, DbError>(Ok(announce(&state, conn, me, chat, None).await?))
        })
        .await?;
    match created {
        Ok(chat) => {
            state.events_committed();
            Ok(Reply::Data(chat))
        }
        Err(missing) => Err(ApiError::not_found(KIND, format!("Пользователь с id:{missing} отсуствует"))),
    }
}
