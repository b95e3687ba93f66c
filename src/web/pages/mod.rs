//! One file per page (or per small group of pages). Handlers answer a page, a fragment for htmx or
//! a redirect, or stop early with a [`PageError`], which becomes a response here, in one place.

pub mod account;
pub mod checked;
pub mod friends;
pub mod home;
pub mod messenger;
pub mod news;
pub mod posts;
pub mod profile;
pub mod search;
pub mod settings;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use maud::html;
use nosebook_actors::Caller;
use nosebook_core::{CoreError, Refusal, retry_after_secs};

use super::PREFIX;
use super::layout::{html_response, page};
use super::session::Viewer;

/// A request made by htmx wants a fragment, not a page.
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("HX-Request")
}

/// See-other to `to` (after a POST the browser GETs it); for htmx, a client-side redirect.
pub fn redirect(req: &HttpRequest, to: &str) -> HttpResponse {
    if is_htmx(req) {
        HttpResponse::Ok().insert_header(("HX-Redirect", to)).finish()
    } else {
        HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
    }
}

/// Where a plain form goes back to after its POST: the page it was sent from, if that is one of
/// ours, else the app's front page.
pub fn back(req: &HttpRequest) -> String {
    req.headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .filter(|path| path.starts_with(PREFIX) && !path.starts_with(&format!("{PREFIX}/lang/")))
        .unwrap_or(PREFIX)
        .to_owned()
}

/// Where a signed-out request is sent: the login page, which leads back to the page asked for
/// (a page the browser showed, for htmx and for forms) once signed in.
fn login_then(req: &HttpRequest) -> String {
    let asked = if is_htmx(req) {
        req.headers()
            .get("HX-Current-URL")
            .and_then(|v| v.to_str().ok())
            .and_then(|url| url.split_once("://"))
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
    } else if req.method() == actix_web::http::Method::GET {
        Some(req.uri().path_and_query().map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned()))
    } else {
        Some(back(req))
    };
    match asked.as_deref().and_then(safe_next) {
        Some(next) if next != PREFIX => {
            let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            format!("{PREFIX}/login?next={next}")
        }
        _ => format!("{PREFIX}/login"),
    }
}

/// `next` if it is a page of this app to go to after signing in: a path of ours, never another
/// site (`//host`, `https://…`, `/\host`, which browsers read as a host too) nor a line break
/// that could end a header. Signing in again is no destination either.
pub fn safe_next(next: &str) -> Option<&str> {
    let ours = next == PREFIX || next.starts_with(&format!("{PREFIX}/")) || next.starts_with(&format!("{PREFIX}?"));
    let plain = !next.contains('\\') && !next.starts_with("//") && !next.chars().any(char::is_control);
    let again = ["/login", "/signup", "/logout"].iter().any(|page| next.starts_with(&format!("{PREFIX}{page}")));
    (ours && plain && !again && next.len() <= 2048).then_some(next)
}

/// An id from a path or a form; anything else is a page that does not exist.
pub fn parse_id<T>(raw: &str, make: impl FnOnce(uuid::Uuid) -> T) -> Result<T, PageError> {
    nosebook_schema::ids::parse_go_uuid(raw).map(make).map_err(|_| PageError::NotFound)
}

/// A word from a path that names what to do (`rename`, `edit`, …), read by serde as one of the
/// actions `T` lists; any other word is a page that does not exist.
pub fn parse_action<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, PageError> {
    use serde::de::IntoDeserializer;
    let word: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = raw.into_deserializer();
    T::deserialize(word).map_err(|_| PageError::NotFound)
}

/// Tells htmx to fire `event` on the page, so the parts listening for it reload themselves.
pub fn with_trigger(mut res: HttpResponse, event: &'static str) -> HttpResponse {
    res.headers_mut().insert(header::HeaderName::from_static("hx-trigger"), header::HeaderValue::from_static(event));
    res
}

/// A refusal for htmx, said where the form shows its errors (`target`, an element on the page):
/// 400 with the text to put there. The live script swaps such an answer in (htmx leaves error
/// answers out by default), so a refused form keeps what was typed and says why beside it.
pub fn refused_here(target: &str, text: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .insert_header(("HX-Retarget", target))
        .insert_header(("HX-Reswap", "innerHTML"))
        .body(html! { (text) }.into_string())
}

/// Why a page handler stopped early.
#[derive(Debug)]
pub enum PageError {
    /// Signed out: the browser is sent to log in.
    SignInFirst,
    /// A state-changing request without its page's CSRF token (or, signed out, from elsewhere).
    Forged,
    NotFound,
    /// What a use case answered.
    Core(CoreError),
}

impl From<CoreError> for PageError {
    fn from(e: CoreError) -> Self {
        Self::Core(e)
    }
}

pub type PageResult = Result<HttpResponse, PageError>;

/// Runs a handler's body and turns its early stop into the response.
pub async fn respond(req: &HttpRequest, viewer: &Viewer, body: impl Future<Output = PageResult>) -> HttpResponse {
    match body.await {
        Ok(res) => res,
        Err(error) => stopped(req, viewer, error),
    }
}

/// The answer to a handler (or a [`checked`] extractor) that stopped early.
pub fn stopped(req: &HttpRequest, viewer: &Viewer, error: PageError) -> HttpResponse {
    match error {
        PageError::SignInFirst => redirect(req, &login_then(req)),
        PageError::Forged => {
            HttpResponse::Forbidden().content_type("text/plain; charset=utf-8").body("CSRF token missing or wrong")
        }
        PageError::NotFound => {
            let t = viewer.t();
            message_page(viewer, StatusCode::NOT_FOUND, t.not_found, t.not_found_text)
        }
        PageError::Core(e) => failure(viewer, e),
    }
}

/// The signed-in caller.
pub fn signed_in(viewer: &Viewer) -> Result<Caller, PageError> {
    viewer.caller.clone().ok_or(PageError::SignInFirst)
}

pub fn message_page(viewer: &Viewer, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    let home = viewer.t().go_home;
    html_response(
        status,
        page(
            viewer,
            title,
            html! { section.card.message { h1 { (title) } p { (text) } p { a.home href=(PREFIX) { (home) } } } },
        ),
    )
}

pub async fn not_found(req: HttpRequest, viewer: Viewer) -> HttpResponse {
    respond(&req, &viewer, async { Err(PageError::NotFound) }).await
}

/// A use case's error as a page: refusals say what was refused; failures are logged and
/// apologised for.
fn failure(viewer: &Viewer, error: CoreError) -> HttpResponse {
    let t = viewer.t();
    match error {
        // In the viewer's language: the API's texts are the original's, partly Russian.
        CoreError::Refused { why: Refusal::NotFound, .. } => {
            message_page(viewer, StatusCode::NOT_FOUND, t.not_found, t.not_found_text)
        }
        CoreError::Refused { why: why @ Refusal::Forbidden, .. } => {
            message_page(viewer, crate::http::status(why), t.bad_request, t.not_allowed)
        }
        CoreError::Refused { why: why @ Refusal::Conflict, .. } => {
            message_page(viewer, crate::http::status(why), t.bad_request, t.already_done)
        }
        CoreError::Refused { why, message, .. } => {
            message_page(viewer, crate::http::status(why), t.bad_request, &message)
        }
        CoreError::InvalidForm(problems) => {
            message_page(viewer, StatusCode::BAD_REQUEST, t.bad_request, &problems.to_string())
        }
        CoreError::Throttled { message, retry_after } => {
            let mut res = message_page(viewer, StatusCode::TOO_MANY_REQUESTS, t.too_many_requests, &message);
            res.headers_mut().insert(header::RETRY_AFTER, retry_after_secs(retry_after).into());
            res
        }
        other => {
            tracing::error!(error = %other, "page failed");
            message_page(viewer, StatusCode::INTERNAL_SERVER_ERROR, t.bad_request, t.something_wrong)
        }
    }
}
