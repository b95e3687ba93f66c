use actix_web::web;
use nosebook_schema::ids::UserId;
use nosebook_schema::models::FriendRequestRow;
use nosebook_schema::queries::friendship;
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::KIND;
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, go_uuid, required_id, string_or_null};
use crate::api::wire::FriendRequest;
use crate::domain::text::Note;
use crate::events::{Event, RequestSent};
use crate::state::AppState;

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
    if responder == caller.user.id {
        return Err(ApiError::bad_input(KIND, "You cannot send a friend request to yourself"));
    }
    let message = Note::parse(&cmd.message, "message").map_err(|e| ApiError::bad_input("Unknown", e))?;
    let row = FriendRequestRow {
        requester_id: caller.user.id,
        responder_id: responder,
        message: message.into_inner(),
        accepted: false,
        viewed: false,
        created_at: state.clock.now(),
    };
    let requester = state.present_user(caller.user.clone()).await;
    let mut conn = state.db.get().await?;
    let sent = conn
        .transaction(async |conn| {
            let Some(row) = friendship::insert(conn, &row).await? else {
                return Ok(None);
            };
            if let Some(requester) = requester {
                let event = Event::FriendRequest(RequestSent { request: row.clone().into(), requester });
                event.queue(conn, &[row.responder_id]).await?;
            }
            Ok::<_, DbError>(Some(row))
        })
        .await;
    match sent {
        Ok(Some(row)) => {
            state.events_committed();
            Ok(Reply::Data(row.into()))
        }
        Ok(None) => Err(ApiError::conflict(KIND, "Заявка в друзья уже отправлена")),
        Err(e) if e.is_foreign_key_violation() => {
            Err(ApiError::not_found(KIND, format!("user {responder} does not exist")))
        }
        Err(e) => Err(e.into()),
    }
}
