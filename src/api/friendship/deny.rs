use actix_web::web;
use nosebook_core::state::AppState;

use super::accept::{AnswerRequest, answer};
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Success};
use crate::api::input::Command;
use nosebook_events::wire::FriendRequest;

/// Deny a pending request sent to you. It stays pending (and viewed): it can still be accepted.
#[utoipa::path(post, path = "/friendship/deny-request", tag = "friendship", 
    request_body(content = AnswerRequest, example = json!({"requesterId": "baa0e8bc-385f-4314-9580-29855aff2229"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The denied request", body = Success<FriendRequest>),
        (status = 400, description = "Bad JSON or missing requester", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "No pending request from them (`Friendship Error`)", body = Failure),
    ))]
pub async fn deny(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<AnswerRequest>,
) -> ApiResult<FriendRequest> {
    answer(&caller, &state, cmd, false).await
}
