//! The round trips a request costs, told in the answer. In testing (`APP_ENV=testing`) every
//! response carries `X-Db-Statements`: how many statements the request's own task sent to
//! PostgreSQL (a pool checkout's test query included; work handed to an actor not). The
//! round-trip budget tests (`tests/api/round_trips.rs`) assert it for the hot requests, so a
//! query added to a hot path fails a test rather than going unnoticed.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use nosebook_schema::observe;

pub const HEADER: &str = "x-db-statements";

pub async fn count_statements(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let (response, sent) = observe::count_statements(next.call(req)).await;
    let mut response = response?;
    response.headers_mut().insert(HeaderName::from_static(HEADER), HeaderValue::from(sent));
    Ok(response)
}
