use actix_web::web;
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::friendship;

use super::list::KIND;
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{QueryParams, parse_id};
use crate::api::wire::Relations;
use crate::state::AppState;

/// At most this many `targetUserIds` per call.
const MAX_TARGETS: usize = 20;

/// How `sourceUserId` relates to each of `targetUserIds` (repeatable, up to 20).
#[utoipa::path(get, path = "/friendship/relation-between", tag = "friendship",
    security(("session" = [])),
    params(
        ("sourceUserId" = uuid::Uuid, Query, description = "From whose side (required)", example = "ed1a3fd0-4d0b-4961-b4cd-cf212357740d"),
        ("targetUserIds" = Vec<uuid::Uuid>, Query, description = "Repeatable, at most 20"),
    ),
    responses(
        (status = 200, description = "Ids by relation; empty lists are omitted", body = Success<Relations>),
        (status = 400, description = "Missing or bad ids, too many targets (`Friendship Presenter Error`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn relation_between(_: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<Relations> {
    let source = UserId(query.required_id("sourceUserId", KIND)?);
    let targets: Vec<UserId> = query
        .all("targetUserIds")
        .filter(|t| !t.is_empty())
        .map(|t| parse_id(t, KIND).map(UserId))
        .collect::<Result<_, _>>()?;
    if targets.len() > MAX_TARGETS {
        return Err(ApiError::bad_input(KIND, "TargetUserIds не может быть больше 20"));
    }
    let mut conn = state.db.get().await?;
    let rows = friendship::between(&mut conn, source, &targets).await?;
    let mut relations = Relations::default();
    for row in rows {
        let outgoing = row.requester_id == source;
        let other = if outgoing { row.responder_id } else { row.requester_id };
        match (row.accepted, outgoing) {
            (true, _) => relations.friend_ids.push(other.0),
            (false, true) => relations.pending_responder_ids.push(other.0),
            (false, false) => relations.pending_requester_ids.push(other.0),
        }
    }
    Ok(Reply::Data(relations))
}
