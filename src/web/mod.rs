//! The web app: pages rendered on the server (maud templates compiled into the binary) under
//! `/app`, progressively enhanced with htmx, and one small script (`web/assets/app.js`) that keeps
//! a WebSocket open and applies live events to the page. The JSON API keeps its paths; `/` sends
//! browsers to the app.
//!
//! Pages call the same queries, presenters and handlers as the API: the app is another face of
//! the same operations, not a second implementation of them.

pub mod assets;
pub mod csrf;
pub mod form;
pub mod i18n;
pub mod layout;
pub mod pages;
pub mod session;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Compress, Next, from_fn};
use actix_web::{HttpResponse, web};

pub use crate::http::WEB_PREFIX as PREFIX;

/// No inline script or style, nothing from elsewhere but images (avatars may live on an S3
/// host), no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    Ok(res)
}

/// `/` is the app's front door.
async fn front_door() -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, PREFIX)).finish()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    use pages::{account, friends, home, messenger, news, posts, profile, search, settings};
    // Where browsers and crawlers look for an icon, whatever a page links.
    cfg.service(web::resource("/favicon.ico").route(web::get().to(assets::favicon)));
    cfg.service(web::resource("/").route(web::get().to(front_door))).service(
        web::scope(PREFIX)
            .wrap(from_fn(security_headers))
            .wrap(Compress::default())
            .service(web::resource("").route(web::get().to(home::home)))
            .service(web::resource("/").route(web::get().to(home::home)))
            .service(
                web::resource("/login").route(web::get().to(account::login_page)).route(web::post().to(account::login)),
            )
            .service(
                web::resource("/signup")
                    .route(web::get().to(account::signup_page))
                    .route(web::post().to(account::signup)),
            )
            .service(web::resource("/logout").route(web::post().to(account::logout)))
            .service(web::resource("/lang/{lang}").route(web::get().to(home::switch_language)))
            .service(web::resource("/search").route(web::get().to(search::search)))
            .service(web::resource("/settings").route(web::get().to(settings::settings)))
            .service(web::resource("/settings/password").route(web::post().to(settings::change_password)))
            .service(web::resource("/settings/sessions/others/end").route(web::post().to(settings::end_other_sessions)))
            .service(web::resource("/settings/sessions/{handle}/end").route(web::post().to(settings::end_session)))
            .service(web::resource("/avatar").route(web::post().to(profile::upload_avatar)))
            .service(web::resource("/users/{id}").route(web::get().to(profile::profile)))
            .service(
                web::resource("/users/{id}/posts")
                    .route(web::get().to(profile::wall_page))
                    .route(web::post().to(profile::publish)),
            )
            .service(web::resource("/friends").route(web::get().to(friends::friends)))
            .service(web::resource("/friends/badge").route(web::get().to(friends::badge)))
            .service(web::resource("/friends/{id}/controls").route(web::get().to(friends::standing)))
            .service(web::resource("/friends/{id}/{action}").route(web::post().to(friends::act)))
            .service(web::resource("/news").route(web::get().to(news::index)))
            .service(web::resource("/news/more").route(web::get().to(news::more)))
            .service(web::resource("/news/newer").route(web::get().to(news::newer)))
            .service(web::resource("/messenger").route(web::get().to(messenger::index)))
            .service(web::resource("/messenger/list").route(web::get().to(messenger::list)))
            .service(web::resource("/messenger/badge").route(web::get().to(messenger::badge)))
            .service(web::resource("/messenger/groups").route(web::post().to(messenger::create_group)))
            .service(web::resource("/messenger/with/{id}").route(web::get().to(messenger::with_user)))
            .service(web::resource("/messenger/with/{id}/send").route(web::post().to(messenger::send_to_user)))
            .service(web::resource("/messenger/{id}").route(web::get().to(messenger::chat)))
            .service(web::resource("/messenger/{id}/history").route(web::get().to(messenger::latest)))
            .service(web::resource("/messenger/{id}/earlier").route(web::get().to(messenger::earlier)))
            .service(web::resource("/messenger/{id}/send").route(web::post().to(messenger::send)))
            .service(web::resource("/messenger/{id}/{action}").route(web::post().to(messenger::chat_action)))
            .service(
                web::resource("/messenger/{id}/messages/{message}/{action}")
                    .route(web::post().to(messenger::message_action)),
            )
            .service(web::resource("/posts/{id}").route(web::get().to(posts::show)))
            .service(web::resource("/comments/{id}").route(web::get().to(posts::show_comment)))
            .service(web::resource("/posts/{id}/like").route(web::post().to(posts::like)))
            .service(web::resource("/posts/{id}/remove").route(web::post().to(posts::remove)))
            .service(
                web::resource("/posts/{id}/comments")
                    .route(web::get().to(posts::more))
                    .route(web::post().to(posts::comment)),
            )
            .service(web::resource("/comments/{id}/remove").route(web::post().to(posts::remove_comment)))
            .service(web::resource("/assets/{name}").route(web::get().to(assets::serve)))
            .default_service(web::to(pages::not_found)),
    );
}
