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
use crate::api::input::{Command, go_uuid, required_id, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct SendRequest {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub responder_id: Uuid,
    /// Optional, at most 256 characters.
    #[schema(max_length = 256)]
    #[serde(deserialize_with = "string_or_null")]
    pub message: String,
}

/// Ask someone to be friends. One row per pair: refused when any request exists between the two.
#[utoipa::path(post, path = "/friendship/send-request", tag = "friendship", 
    request_body(content = SendRequest, example = json!({"responderId": "48683858-796c-45ad-a361-9e3d6d003354", "message": "Hi, remember me?"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The pending request", body = Success<FriendRequest>),
        (status = 400, description = "Bad JSON, missing responder, request to yourself or long message", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "No such user (`Friendship Error`)", body = Failure),
        (status = 409, description = "A request already exists between the two (`Friendship Error`)", body = Failure),
    ))]
pub async fn send(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<SendRequest>,
) -> ApiResult<FriendRequest> {
    let responder = UserId(required_id(cmd.responder_id, "responderId")?);
    Ok(Reply::Data(friendship::send_request(&state, &caller, responder, &cmd.message).await?))
}
