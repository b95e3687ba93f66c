//! `GET /ws`: the realtime socket of the signed-in caller (docs/API.md §6.1).

use actix_web::{HttpRequest, HttpResponse, web};
use nosebook_core::Kind;
use nosebook_core::limits::Limits;

use super::auth::SignedIn;
use super::envelope::ApiError;
use super::input::QueryParams;
use crate::http::upgrade::Upgraded;
use actix::Addr;
use nosebook_notifier::Hub;
use nosebook_notifier::hub::Resume;

/// Upgrades to a WebSocket carrying `{type, payload}` events. Authenticated by the session
/// header or, for browsers, the `nosebook_session` cookie from one of our own pages (`Origin`);
/// anyone else gets 403 and no upgrade.
#[utoipa::path(get, path = "/ws", tag = "realtime",
    security(("session" = [])),
    params(("cursor" = Option<String>, Query, description = "Resuming (docs/API.md §6.4): the `cursor` of the last \
        event this client received, answered by `resumed` and the missed events or by `resync_required`; empty for \
        a new start, answered by `ready` with the cursor to resume from. Without it, no status frame: the \
        original protocol.")),
    responses(
        (status = 101, description = "Switching protocols: one JSON text frame per event"),
        (status = 400, description = "Not a WebSocket upgrade (`Unknown`): a plain GET without the upgrade headers; \
            or a cursor longer than 256 bytes", body = crate::api::envelope::Failure),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = crate::api::envelope::Failure),
        (status = 429, description = "Too many upgrades from this address, or too many sockets open for this \
            session (`Too Many Requests`); no upgrade", body = crate::api::envelope::Failure,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn connect(
    caller: SignedIn,
    query: QueryParams,
    req: HttpRequest,
    hub: web::Data<Addr<Hub>>,
    limits: web::Data<Limits>,
) -> Result<HttpResponse, actix_web::Error> {
    let wants_websocket = req
        .headers()
        .get(actix_web::http::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !wants_websocket {
        return Err(ApiError::bad_input(Kind::Unknown, "expected a WebSocket upgrade").into());
    }
    // A browser sends its cookie to our /ws whichever page opens the socket; only our own pages
    // may (cross-site WebSocket hijacking). Header-authenticated clients chose their header.
    let by_cookie = !req.headers().contains_key(super::auth::SESSION_HEADER);
    if by_cookie && !crate::http::same_origin(&req) {
        return Err(ApiError::forbidden(Kind::NotAuthenticated, "cross-origin WebSocket").into());
    }
    limits.ws_upgrade(crate::http::client_addr::client_ip(&req, limits.trusted_proxies())).map_err(ApiError::from)?;
    let slot = limits.socket_slot(caller.session.session_id).map_err(ApiError::from)?;
    let resume = match query.first("cursor") {
        None => Resume::No,
        Some("") => Resume::Fresh,
        Some(cursor) if cursor.len() > MAX_CURSOR => {
            return Err(ApiError::bad_input(Kind::Unknown, "cursor too long").into());
        }
        Some(cursor) => Resume::From(cursor.to_owned()),
    };
    actix_http::ws::verify_handshake(req.head())
        .map_err(|e| ApiError::bad_input(Kind::Unknown, format!("not a WebSocket handshake: {e}")))?;
    let (user, session) = (caller.user.id, caller.session.session_id);
    let handoff = nosebook_notifier::register(&hub, user, session, resume)
        .await
        .ok_or_else(|| actix_web::error::ErrorServiceUnavailable("hub unavailable"))?;
    // The socket itself is served once the 101 is written (`http/upgrade.rs`); the session's
    // place among its sockets goes with it.
    let mut response =
        HttpResponse::from(actix_http::ws::handshake_response(req.head()).finish()).map_into_boxed_body();
    response.extensions_mut().insert(Upgraded { handoff, slot });
    Ok(response)
}

/// Longer than any cursor the server hands out.
const MAX_CURSOR: usize = 256;
