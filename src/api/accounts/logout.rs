use actix_web::web;
use nosebook_core::accounts;
use nosebook_core::state::AppState;
use nosebook_events::wire::Session;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};

/// End the caller's current session; the user's other sessions stay valid.
#[utoipa::path(post, path = "/logout", tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 200, description = "The session as it was when it ended", body = Success<Session>),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
        (status = 404, description = "Session already gone (`LogoutError`)", body = Failure),
    ))]
pub async fn logout(caller: SignedIn, state: web::Data<AppState>) -> ApiResult<Session> {
    Ok(Reply::Data(accounts::logout(&state, &caller).await?))
}
