//! Writes per signed-in user: every POST of the API and of the web app (messages, posts,
//! comments, likes, friend requests, group changes, avatars) takes a token of the caller's
//! bucket, in one place rather than in each handler. Logging out is never refused; sign-up and
//! log-in are anonymous and have their own limits.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use nosebook_actors::Caller;

use super::Limits;

const NEVER_REFUSED: &[&str] = &["/logout", "/app/logout"];

/// Runs after `resolve_session`, which tells who is calling.
pub async fn throttle_writes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::POST && !NEVER_REFUSED.contains(&req.path()) {
        let user = req.extensions().get::<Caller>().map(|c| c.user.id);
        if let (Some(user), Some(limits)) = (user, req.app_data::<web::Data<Limits>>()) {
            limits.write(user)?;
        }
    }
    next.call(req).await
}
