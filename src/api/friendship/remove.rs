use actix_web::web;
use nosebook_core::friendship;
use nosebook_core::state::AppState;
use nosebook_events::wire::FriendRequest;
use nosebook_schema::ids::UserId;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct RemoveFriend {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub friend_id: Uuid,
}

/// End a friendship. The ex-friend stays as a pending request to you ("subscriber").
#[utoipa::path(post, path = "/friendship/remove-friend", tag = "friendship", 
    request_body(content = RemoveFriend, example = json!({"friendId": "37d28fdf-99bc-44b5-8df9-6a3b1a36f177"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The row, now requester = ex-friend, responder = you, not accepted", body = Success<FriendRequest>),
        (status = 400, description = "Bad JSON or missing friend", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "Not friends (`Friendship Error`)", body = Failure),
    ))]
pub async fn remove(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<RemoveFriend>,
) -> ApiResult<FriendRequest> {
    let friend = UserId(required_id(cmd.friend_id, "friendId")?);
    Ok(Reply::Data(friendship::unfriend(&state, &caller, friend).await?))
}
