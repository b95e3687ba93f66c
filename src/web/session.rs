//! Who is looking at a page: the signed-in caller (from the `nosebook_session` cookie, resolved
//! by `api::auth::resolve_session` like the header), the language, and the cookies that carry
//! both.

use std::future::{Ready, ready};

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use nosebook_actors::Caller;

use super::csrf;
use super::i18n::{LANG_COOKIE, Lang, Texts};
use crate::http::SESSION_COOKIE;
use nosebook_events::wire::Session;

/// The page's audience. Every page handler takes one.
#[derive(Clone)]
pub struct Viewer {
    pub caller: Option<Caller>,
    pub lang: Lang,
}

impl Viewer {
    pub fn t(&self) -> &'static Texts {
        self.lang.t()
    }

    /// The token this viewer's forms carry (empty when signed out).
    pub fn csrf(&self) -> String {
        self.caller.as_ref().map(|c| csrf::token(c.session.session_id)).unwrap_or_default()
    }

    pub fn of(req: &HttpRequest) -> Self {
        // Reading a cookie may parse and cache the cookie jar in the request's extensions, so the
        // language is read before the extensions are borrowed for the caller.
        let lang = Lang::of(req);
        let caller = req.extensions().get::<Caller>().cloned();
        Viewer { caller, lang }
    }
}

impl FromRequest for Viewer {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Viewer::of(req)))
    }
}

/// `Secure` only when the request came over TLS (directly or through a proxy that says so), so
/// that the cookie also works on plain `http://127.0.0.1`.
fn secure(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// The session cookie as the original frontend set it: `<sessionId>:<userId>`.
pub fn session_cookie(req: &HttpRequest, session: &Session) -> Cookie<'static> {
    let max_age = (session.expires_at.0 - session.created_at.0).num_seconds().max(0);
    Cookie::build(SESSION_COOKIE, format!("{}:{}", session.session_id, session.user_id))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(req))
        .max_age(time::Duration::seconds(max_age))
        .finish()
}

pub fn expired_session_cookie(req: &HttpRequest) -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(req))
        .finish();
    cookie.make_removal();
    cookie
}

pub fn lang_cookie(req: &HttpRequest, lang: Lang) -> Cookie<'static> {
    Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .same_site(SameSite::Lax)
        .secure(secure(req))
        .max_age(time::Duration::days(365))
        .finish()
}
