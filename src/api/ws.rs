//! `GET /ws`: the realtime socket of the signed-in caller (API.md §6.1).

use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::SignedIn;
use actix::Addr;
use nosebook_notifier::Hub;

/// Upgrades to a WebSocket carrying `{type, payload}` events. Authenticated by the session
/// header or, for browsers, the `nosebook_session` cookie; anyone else gets 403 and no upgrade.
#[utoipa::path(get, path = "/ws", tag = "realtime",
    security(("session" = [])),
    responses(
        (status = 101, description = "Switching protocols: one JSON text frame per event"),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = crate::api::envelope::Failure),
    ))]
pub async fn connect(
    caller: SignedIn,
    req: HttpRequest,
    body: web::Payload,
    hub: web::Data<Addr<Hub>>,
) -> Result<HttpResponse, actix_web::Error> {
    nosebook_notifier::upgrade(&req, body, caller.user.id, &hub).await
}
