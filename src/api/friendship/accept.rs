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
pub struct AnswerRequest {
    /// Who sent the request.
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub requester_id: Uuid,
}

/// Accept a pending request sent to you (a denied one too).
#[utoipa::path(post, path = "/friendship/accept-request", tag = "friendship", 
    request_body(content = AnswerRequest, example = json!({"requesterId": "1ae02f69-ea1a-4308-b825-0e5896e652e4"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The accepted request", body = Success<FriendRequest>),
        (status = 400, description = "Bad JSON or missing requester", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "No pending request from them (`Friendship Error`)", body = Failure),
    ))]
pub async fn accept(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<AnswerRequest>,
) -> ApiResult<FriendRequest> {
    answer(&caller, &state, cmd, true).await
}

pub(super) async fn answer(
    caller: &SignedIn,
    state: &AppState,
    cmd: AnswerRequest,
    accept: bool,
) -> ApiResult<FriendRequest> {
    let requester = UserId(required_id(cmd.requester_id, "requesterId")?);
    Ok(Reply::Data(friendship::answer(state, caller, requester, accept).await?))
}
