//! `GET /ws`: the realtime socket of the signed-in caller (API.md §6.1).

use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::SignedIn;
use super::envelope::ApiError;
use actix::Addr;
use nosebook_notifier::Hub;

/// Upgrades to a WebSocket carrying `{type, payload}` events. Authenticated by the session
/// header or, for browsers, the `nosebook_session` cookie from one of our own pages (`Origin`);
/// anyone else gets 403 and no upgrade.
#[utoipa::path(get, path = "/ws", tag = "realtime",
    security(("session" = [])),
    responses(
        (status = 101, description = "Switching protocols: one JSON text frame per event"),
        (status = 400, description = "Not a WebSocket upgrade (`Unknown`): a plain GET without the upgrade headers", body = crate::api::envelope::Failure),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = crate::api::envelope::Failure),
    ))]
pub async fn connect(
    caller: SignedIn,
    req: HttpRequest,
    body: web::Payload,
    hub: web::Data<Addr<Hub>>,
) -> Result<HttpResponse, actix_web::Error> {
    let wants_websocket = req
        .headers()
        .get(actix_web::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !wants_websocket {
        return Err(ApiError::bad_input("Unknown", "expected a WebSocket upgrade").into());
    }
    // A browser sends its cookie to our /ws whichever page opens the socket; only our own pages
    // may (cross-site WebSocket hijacking). Header-authenticated clients chose their header.
    let by_cookie = !req.headers().contains_key(super::auth::SESSION_HEADER);
    if by_cookie && !crate::web::csrf::same_origin(&req) {
        return Err(ApiError::forbidden("Not Authenticated", "cross-origin WebSocket").into());
    }
    nosebook_notifier::upgrade(&req, body, caller.user.id, &hub).await
}
