//! What both doors — the JSON API (`api/`) and the web app (`web/`) — share about HTTP itself:
//! where the web app is mounted, the session cookie, the same-origin rule for cookie-signed
//! requests, NUL in text, and reading an uploaded file. It depends on neither door, so neither
//! door has to import the other.

pub mod client_addr;
pub mod round_trips;
pub mod upgrade;
pub mod upload;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use nosebook_core::Refusal;
use nosebook_core::accounts::Client;
use nosebook_core::limits::Limits;

/// Where the web app's pages live; everything else is the JSON API, the socket and the probes.
pub const WEB_PREFIX: &str = "/app";

/// The cookie the original frontend sets, `<sessionId>:<userId>`; the web app signs in with it
/// too. Only the web app's pages and the WebSocket upgrade accept it (`api/auth.rs`).
pub const SESSION_COOKIE: &str = "nosebook_session";

/// `path` is one of the web app's pages.
pub fn is_web_path(path: &str) -> bool {
    path.strip_prefix(WEB_PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A request signed by the cookie rather than by a header: if the browser names its origin, it
/// must be ours.
pub fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get("Origin").and_then(|v| v.to_str().ok()) else {
        // Browsers send Origin with every cross-site POST; its absence means same-site or no browser.
        return true;
    };
    let info = req.connection_info();
    origin.split_once("://").is_some_and(|(_, host)| host == info.host())
}

/// The status both doors answer a refusal with.
pub fn status(why: Refusal) -> StatusCode {
    match why {
        Refusal::Invalid => StatusCode::BAD_REQUEST,
        Refusal::BadCredentials => StatusCode::UNAUTHORIZED,
        Refusal::Forbidden => StatusCode::FORBIDDEN,
        Refusal::NotFound => StatusCode::NOT_FOUND,
        Refusal::Conflict => StatusCode::CONFLICT,
        Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Refusal::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Who signs up or in, from either door: the address limits count by (behind trusted proxies),
/// the device the session remembers.
pub fn client(limits: &Limits, req: &HttpRequest) -> Client {
    Client { ip: client_addr::client_ip(req, limits.trusted_proxies()), user_agent: user_agent(req) }
}

/// The `User-Agent` a request came with, kept with the sessions it opens so their owner can
/// tell them apart.
fn user_agent(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get(actix_web::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    header.map(str::trim).filter(|ua| !ua.is_empty()).map(str::to_owned)
}

/// Why text with NUL is refused, wherever it comes in: PostgreSQL cannot store it.
pub const NUL_REFUSED: &str = "text must not contain NUL (U+0000) characters";

/// True when percent-decoding `raw` yields a NUL (or it holds one already).
pub fn has_encoded_nul(raw: &str) -> bool {
    raw.contains('\0') || raw.as_bytes().windows(3).any(|w| w == b"%00")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn encoded_nul_is_found_wherever_it_is() {
        assert!(has_encoded_nul("/users?text=%00"));
        assert!(has_encoded_nul("/storage/users/avatars/a%00b.jpg"));
        assert!(has_encoded_nul("a\0b"));
        assert!(!has_encoded_nul("/users?text=%2500&limit=100"));
        assert!(!has_encoded_nul("/users?text=%30%30"));
    }

    #[test]
    fn a_foreign_origin_is_refused() {
        let ours = TestRequest::default()
            .insert_header(("Host", "nosebook.test"))
            .insert_header(("Origin", "https://nosebook.test"))
            .to_http_request();
        assert!(same_origin(&ours));
        let theirs = TestRequest::default()
            .insert_header(("Host", "nosebook.test"))
            .insert_header(("Origin", "https://evil.test"))
            .to_http_request();
        assert!(!same_origin(&theirs));
    }

    #[test]
    fn the_web_app_is_its_prefix_and_below() {
        assert!(is_web_path("/app"));
        assert!(is_web_path("/app/messenger"));
        assert!(!is_web_path("/apple"));
        assert!(!is_web_path("/ws"));
    }
}
