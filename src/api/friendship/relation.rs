use actix_web::web;
use nosebook_core::friendship;
use nosebook_core::state::AppState;
use nosebook_events::wire::Relations;
use nosebook_schema::ids::UserId;

use super::list::KIND;
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{QueryParams, parse_id};

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
    Ok(Reply::Data(friendship::relations(&state, source, &targets).await?))
}
