use actix_web::web;
use nosebook_core::chats;
use nosebook_core::state::AppState;
use nosebook_events::wire::Chat;
use nosebook_schema::ids::UserId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, string_or_null};

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
    let members = cmd.member_ids.into_iter().map(UserId).collect();
    Ok(Reply::Data(chats::create_group(&state, &caller, &cmd.title, members).await?))
}
