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
pub struct CancelRequest {
    #[schema(required = true)]
    #[serde(deserialize_with = "go_uuid")]
    pub responder_id: Uuid,
}

/// Withdraw a request you sent and they have not accepted. Not in the original API (whose
/// frontend had no way back from "request sent"); the web app's "Cancel request" uses it.
#[utoipa::path(post, path = "/friendship/cancel-request", tag = "friendship", 
    request_body(content = CancelRequest, example = json!({"responderId": "48683858-796c-45ad-a361-9e3d6d003354"})),
    security(("session" = [])),
    responses(
        (status = 200, description = "The withdrawn request, as it was", body = Success<FriendRequest>),
        (status = 400, description = "Bad JSON or missing responder", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
        (status = 404, description = "No pending request of yours to them (`Friendship Error`)", body = Failure),
    ))]
pub async fn cancel(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<CancelRequest>,
) -> ApiResult<FriendRequest> {
    let responder = UserId(required_id(cmd.responder_id, "responderId")?);
    Ok(Reply::Data(friendship::cancel(&state, &caller, responder).await?))
}
