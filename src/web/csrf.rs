//! Cross-site request forgery. The session cookie is `SameSite=Lax`, which already keeps other
//! sites' POSTs from carrying it; on top of that every state-changing request authenticated by
//! the cookie must carry a token only our pages know — a hash of the session id, so every node
//! can check it without storing anything, and reading it reveals nothing about the session.
//! Signed-out forms (log in, sign up) have no session: their POSTs must come from our origin
//! (`crate::http::same_origin`).

use actix_web::HttpRequest;
use nosebook_schema::ids::SessionId;
use sha2::{Digest, Sha256};

/// The form field and the header (htmx requests) that carry the token.
pub const FIELD: &str = "csrf";
pub const HEADER: &str = "X-CSRF-Token";

pub fn token(session: SessionId) -> String {
    let digest = Sha256::new().chain_update(b"nosebook csrf\0").chain_update(session.0.as_bytes()).finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The submitted token (form field, else header) is the session's.
pub fn verify(req: &HttpRequest, session: SessionId, submitted: Option<&str>) -> bool {
    let header = req.headers().get(HEADER).and_then(|v| v.to_str().ok());
    let Some(submitted) = submitted.filter(|s| !s.is_empty()).or(header) else {
        return false;
    };
    let expected = token(session);
    // Constant time: the comparison does not stop at the first differing byte.
    submitted.len() == expected.len()
        && submitted.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn only_the_sessions_own_token_passes() {
        let session = SessionId(uuid::Uuid::new_v4());
        let other = SessionId(uuid::Uuid::new_v4());
        let req = TestRequest::default().to_http_request();
        assert!(verify(&req, session, Some(&token(session))));
        assert!(!verify(&req, session, Some(&token(other))));
        assert!(!verify(&req, session, Some("")));
        assert!(!verify(&req, session, None));
        let with_header = TestRequest::default().insert_header((HEADER, token(session))).to_http_request();
        assert!(verify(&with_header, session, None));
    }
}
