//! Who is calling (docs/API.md §1.2).
//!
//! [`resolve_session`] runs for every request but the service probes: a valid
//! `X-Auth-Session-Id` makes the request authenticated and records activity before any handler
//! runs — also for requests that then fail, as in the original. Handlers state what they need
//! with an extractor: [`SignedIn`] (403 `Not Authenticated` otherwise) or [`Anonymous`]
//! (403 `Authenticated` otherwise).

use std::future::{Ready, ready};
use std::ops::Deref;

use actix::Addr;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use nosebook_actors::{Caller, SessionBoard, SessionDirectory};
use nosebook_schema::ids::{SessionId, UserId, parse_go_uuid};

use super::envelope::ApiError;

pub const SESSION_HEADER: &str = "X-Auth-Session-Id";

/// Paths that skip session resolution entirely: probes and scrapes must not touch sessions.
const UNAUTHENTICATED_PATHS: &[&str] = &["/ping", "/metrics", "/healthz", "/readyz"];

pub async fn resolve_session(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !UNAUTHENTICATED_PATHS.contains(&req.path()) {
        let claim = session_claim(&req);
        let directory = req.app_data::<web::Data<Addr<SessionDirectory>>>().cloned();
        let board = req.app_data::<web::Data<SessionBoard>>().cloned();
        if let (Some((session, claimed_user)), Some(directory), Some(board)) = (claim, directory, board) {
            let caller = nosebook_actors::sessions::authenticate(&board, &directory, session)
                .await
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("session directory: {e}")))?
                .map_err(ApiError::from)?;
            // A cookie names its user too; it must be the session's.
            if let Some(caller) = caller.filter(|c| claimed_user.is_none_or(|u| u == c.user.id)) {
                // The request's root span (see `telemetry::RequestSpan`).
                tracing::Span::current().record("user_id", tracing::field::display(caller.user.id));
                req.extensions_mut().insert(caller);
            }
        }
    }
    next.call(req).await
}

pub use crate::http::SESSION_COOKIE;

/// Which session the request claims: the header everywhere, and the cookie for the web app's
/// pages and the WebSocket upgrade (which browsers cannot add headers to). The JSON API does not
/// take the cookie: it has no CSRF tokens, the app's pages do. The cookie also names the user it
/// belongs to.
fn session_claim(req: &ServiceRequest) -> Option<(SessionId, Option<UserId>)> {
    let header = req.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok());
    if let Some(id) = header.and_then(|v| parse_go_uuid(v.trim()).ok()) {
        return Some((SessionId(id), None));
    }
    let path = req.path();
    if path != "/ws" && !crate::http::is_web_path(path) {
        return None;
    }
    let cookie = req.cookie(SESSION_COOKIE)?;
    let (session, user) = cookie.value().split_once(':')?;
    Some((SessionId(parse_go_uuid(session).ok()?), Some(UserId(parse_go_uuid(user).ok()?))))
}

/// The request carries a valid session.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Caller);

impl Deref for SignedIn {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<Caller>().cloned().map(SignedIn).ok_or_else(ApiError::not_authenticated))
    }
}

/// The request carries no valid session (register, login).
#[derive(Debug, Clone, Copy)]
pub struct Anonymous;

impl FromRequest for Anonymous {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match req.extensions().get::<Caller>() {
            Some(_) => Err(ApiError::authenticated()),
            None => Ok(Anonymous),
        })
    }
}
