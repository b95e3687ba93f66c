//! Writes per signed-in user: every POST of the API and of the web app (messages, posts,
//! comments, likes, friend requests, group changes, avatars) takes a token of the caller's
//! bucket, in one place rather than in each handler. Logging out is never refused; sign-up and
//! log-in are anonymous and have their own limits.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, web};
use nosebook_actors::Caller;
use nosebook_core::limits::Limits;
use nosebook_core::{CoreError, retry_after_secs};

use crate::api::envelope::ApiError;
use crate::web::session::Viewer;

const NEVER_REFUSED: &[&str] = &["/logout", "/app/logout"];

/// Runs after `resolve_session`, which tells who is calling.
pub async fn throttle_writes<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if req.method() == Method::POST && !NEVER_REFUSED.contains(&req.path()) {
        let user = req.extensions().get::<Caller>().map(|c| c.user.id);
        if let (Some(user), Some(limits)) = (user, req.app_data::<web::Data<Limits>>())
            && let Err(refusal) = limits.write(user)
        {
            if !crate::http::is_web_path(req.path()) {
                return Err(ApiError::from(refusal).into());
            }
            let page = page(&req, &refusal).await;
            return Ok(req.into_response(page).map_into_right_body());
        }
    }
    next.call(req).await.map(ServiceResponse::map_into_left_body)
}

/// The web app's answer: a page in the viewer's language, as its handlers would give.
async fn page(req: &ServiceRequest, refusal: &CoreError) -> actix_web::HttpResponse {
    // Cookies parsed first, so the viewer's language lookup finds them without a second borrow
    // of the request's extensions.
    let _ = req.cookie(crate::http::SESSION_COOKIE);
    let text = match refusal {
        CoreError::Throttled { message, .. } => message.clone(),
        other => other.to_string(),
    };
    let mut res = match Viewer::extract(req.request()).await {
        Ok(viewer) => {
            let title = viewer.t().too_many_requests;
            crate::web::pages::message_page(&viewer, StatusCode::TOO_MANY_REQUESTS, title, &text)
        }
        Err(_) => actix_web::HttpResponse::TooManyRequests().body(text),
    };
    if let CoreError::Throttled { retry_after, .. } = refusal {
        res.headers_mut().insert(header::RETRY_AFTER, retry_after_secs(*retry_after).into());
    }
    res
}
