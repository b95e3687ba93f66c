//! A deadline on the request body. actix-web's `client_request_timeout` covers the head only: a
//! client that sends its headers and then the body a byte at a time would hold a connection and a
//! handler for ever. The whole body must arrive within `NOSEBOOK_BODY_TIMEOUT_SECS` of the head;
//! past that, the handler's next read fails, and the answer is 408 on a closing connection,
//! whatever the handler made of the failed read.
//!
//! Not for upgrades: the "body" of an upgraded connection (`GET /ws`) is the WebSocket itself.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage as _, ResponseError};
use futures_util::Stream;
use tokio::time::Sleep;

use crate::api::envelope::ApiError;

/// How long a request body may take (app data, read by [`deadline`]).
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// The middleware: puts the request's body behind its deadline.
pub async fn deadline<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let Some(BodyTimeout(limit)) = req.app_data::<BodyTimeout>().copied() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let payload = req.take_payload();
    if matches!(payload, Payload::None) || req.head().upgrade() {
        req.set_payload(payload);
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let expired = Rc::new(Cell::new(false));
    let timed =
        Deadline { body: payload, timer: Box::pin(tokio::time::sleep(limit)), expired: expired.clone(), ended: false };
    let timed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(timed);
    req.set_payload(Payload::from(timed));
    // No clone of the request may be held across the call: routing needs it unshared.
    let outcome = next.call(req).await;
    if !expired.get() {
        return outcome.map(ServiceResponse::map_into_left_body);
    }
    let message = format!("The request body did not arrive within {} s", limit.as_secs());
    let late = ApiError::request_timeout(message);
    let Ok(answered) = outcome else {
        return Err(late.into());
    };
    let mut response = late.error_response();
    // The rest of the body may still be on its way: this connection cannot carry another request.
    response.head_mut().set_connection_type(ConnectionType::Close);
    let (request, _) = answered.into_parts();
    Ok(ServiceResponse::new(request, response).map_into_right_body())
}

/// The body, failing once the deadline has passed.
struct Deadline {
    body: Payload,
    timer: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
    /// All of it arrived: the deadline no longer matters, however long the handler works on.
    ended: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended || self.expired.get() {
            return Poll::Ready(None);
        }
        // The deadline first: a steady trickle always has a byte ready, and must still end.
        if self.timer.as_mut().poll(cx).is_ready() {
            self.expired.set(true);
            let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body timed out");
            return Poll::Ready(Some(Err(PayloadError::Io(late))));
        }
        let next = Pin::new(&mut self.body).poll_next(cx);
        if let Poll::Ready(None) = next {
            self.ended = true;
        }
        next
    }
}
