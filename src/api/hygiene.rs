//! Rules every request passes before routing, whichever door it comes through.
//!
//! - `HEAD` is answered as `GET` without the body (uptime checks, `curl -I`): the HTTP layer
//!   remembers the request was `HEAD` and never writes a body for it.
//! - NUL (U+0000) is refused as bad input wherever text comes in. PostgreSQL cannot store it in
//!   text, so it would otherwise surface as a server error from deep inside a query. This
//!   middleware covers paths and query strings (`%00`); JSON bodies are checked in
//!   [`super::input::parse_json`], form bodies in `web::form`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use nosebook_core::Kind;

use super::envelope::ApiError;
use crate::http::{NUL_REFUSED, has_encoded_nul};

pub async fn request_rules(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if has_encoded_nul(req.uri().path_and_query().map_or("", |pq| pq.as_str())) {
        let (req, _) = req.into_parts();
        let response = actix_web::ResponseError::error_response(&ApiError::bad_input(Kind::Unknown, NUL_REFUSED));
        return Ok(ServiceResponse::new(req, response).map_into_right_body());
    }
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    Ok(next.call(req).await?.map_into_left_body())
}
