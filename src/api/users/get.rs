use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, users};
use nosebook_events::wire::User;
use nosebook_schema::ids::UserId;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::parse_id;

/// One user. An unknown id answers `data: null`, as the original does.
#[utoipa::path(get, path = "/users/{id}", tag = "users",
    security(("session" = [])),
    params(("id" = uuid::Uuid, Path, description = "User id", example = "ed1a3fd0-4d0b-4961-b4cd-cf212357740d")),
    responses(
        (status = 200, description = "The user, or `data: null` when there is none", body = Success<Option<User>>),
        (status = 400, description = "Not a UUID (`Unknown`)", body = Failure),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
    ))]
pub async fn get_user(caller: SignedIn, state: web::Data<AppState>, id: web::Path<String>) -> ApiResult<User> {
    let id = UserId(parse_id(&id, Kind::Unknown)?);
    Ok(users::get(&state, &caller, id).await?.map_or(Reply::Null, Reply::Data))
}
