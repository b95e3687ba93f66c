use actix_web::web;
use nosebook_schema::queries::sessions;
use nosebook_schema::{AsyncConnection, DbError};

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::wire::Session;
use crate::events::Control;
use crate::state::AppState;

/// End the caller's current session; the user's other sessions stay valid.
#[utoipa::path(post, path = "/logout", tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 200, description = "The session as it was when it ended", body = Success<Session>),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
        (status = 404, description = "Session already gone (`LogoutError`)", body = Failure),
    ))]
pub async fn logout(caller: SignedIn, state: web::Data<AppState>) -> ApiResult<Session> {
    let id = caller.session.session_id;
    let mut conn = state.db.get().await?;
    let deleted = conn
        .transaction(async |conn| {
            let deleted = sessions::delete(conn, id).await?;
            // Every other node drops its cached copy when this reaches it (see `Control`).
            crate::events::queue_control(conn, Control::SessionEnded { session_id: id.0 }).await?;
            Ok::<_, DbError>(deleted)
        })
        .await?;
    // Forget it on this node now, whatever the database said: no cached copy may outlive it.
    super::forget_here(&state, &[id]).await?;
    match deleted {
        // The caller's copy holds the expiry this very request slid forward.
        Some(_) => Ok(Reply::Data(caller.0.session.into())),
        None => Err(ApiError::not_found("LogoutError", "Сессии не существует")),
    }
}
