//! The HTTP API. [`routes`] is the one list of every route; each handler lives in its own file
//! under the area it belongs to.

pub mod accounts;
pub mod auth;
pub mod chats;
pub mod comments;
pub mod envelope;
pub mod feed;
pub mod friendship;
pub mod hygiene;
pub mod input;
pub mod likes;
pub mod openapi;
pub mod posts;

pub mod service;
pub mod storage;
pub mod users;
pub mod ws;

use actix_web::{Resource, web};

/// A resource whose wrong methods answer 404 like unknown routes (docs/API.md §1.4), not 405.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(service::not_found))
}

/// What a notifier node alone serves.
pub fn notifier_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/ping").route(web::get().to(service::ping)))
        .service(resource("/healthz").route(web::get().to(service::healthz)))
        .service(resource("/metrics").route(web::get().to(crate::prometheus::serve)))
        .service(resource("/ws").route(web::get().to(ws::connect)));
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/ping").route(web::get().to(service::ping)))
        .service(resource("/healthz").route(web::get().to(service::healthz)))
        .service(resource("/readyz").route(web::get().to(service::readyz)))
        .service(resource("/metrics").route(web::get().to(crate::prometheus::serve)))
        .service(resource("/openapi.json").route(web::get().to(openapi::openapi)))
        .service(resource("/register").route(web::post().to(accounts::register::register)))
        .service(resource("/login").route(web::post().to(accounts::login::login)))
        .service(resource("/logout").route(web::post().to(accounts::logout::logout)))
        .service(resource("/whoami").route(web::get().to(accounts::whoami::whoami)))
        .service(resource("/sessions").route(web::get().to(accounts::sessions::list)))
        .service(resource("/sessions/end").route(web::post().to(accounts::sessions::end)))
        .service(resource("/users/change-password").route(web::post().to(accounts::change_password::change_password)))
        .service(resource("/users").route(web::get().to(users::search::search_users)))
        .service(resource("/users/change-avatar").route(web::post().to(users::change_avatar::change_avatar)))
        .service(resource("/users/{id}").route(web::get().to(users::get::get_user)))
        .service(
            web::resource(format!("{}/{{key:.+}}", nosebook_core::storage::LOCAL_ROUTE))
                .route(web::get().to(storage::serve))
                .default_service(web::to(service::not_found)),
        )
        // Static paths before the `{id}` ones they would otherwise match.
        .service(resource("/posts/publish").route(web::post().to(posts::publish::publish)))
        .service(resource("/posts/remove").route(web::post().to(posts::remove::remove)))
        .service(resource("/posts").route(web::get().to(posts::list::list)))
        .service(resource("/feed").route(web::get().to(feed::list::list)))
        .service(resource("/posts/{id}").route(web::get().to(posts::get::get)))
        .service(resource("/comments/publish-on-post").route(web::post().to(comments::publish::publish)))
        .service(resource("/comments/remove").route(web::post().to(comments::remove::remove)))
        .service(resource("/comments").route(web::get().to(comments::list::list)))
        .service(resource("/comments/{id}").route(web::get().to(comments::get::get)))
        .service(resource("/like/post").route(web::post().to(likes::post::like_post)))
        .service(resource("/like/comment").route(web::post().to(likes::comment::like_comment)))
        .service(resource("/friendship/send-request").route(web::post().to(friendship::send::send)))
        .service(resource("/friendship/accept-request").route(web::post().to(friendship::accept::accept)))
        .service(resource("/friendship/deny-request").route(web::post().to(friendship::deny::deny)))
        .service(resource("/friendship/remove-friend").route(web::post().to(friendship::remove::remove)))
        .service(resource("/friendship/cancel-request").route(web::post().to(friendship::cancel::cancel)))
        .service(resource("/friendship").route(web::get().to(friendship::list::list)))
        .service(resource("/friendship/relation-between").route(web::get().to(friendship::relation::relation_between)))
        .service(resource("/conversations/send-message").route(web::post().to(chats::send::send)))
        .service(resource("/chats/create-group").route(web::post().to(chats::create_group::create_group)))
        .service(resource("/chats/add-members").route(web::post().to(chats::add_members::add_members)))
        .service(resource("/chats/leave").route(web::post().to(chats::leave::leave)))
        .service(resource("/chats/rename").route(web::post().to(chats::rename::rename)))
        .service(resource("/chats/read").route(web::post().to(chats::read::read)))
        .service(resource("/chats/typing").route(web::post().to(chats::typing::typing)))
        .service(resource("/chats").route(web::get().to(chats::list::list)))
        .service(resource("/chats/{id}").route(web::get().to(chats::get::get)))
        .service(resource("/chats/{id}/reads").route(web::get().to(chats::read::reads)))
        .service(resource("/messages").route(web::get().to(chats::messages::list)))
        .service(resource("/messages/edit").route(web::post().to(chats::edit_message::edit)))
        .service(resource("/messages/remove").route(web::post().to(chats::remove_message::remove)))
        .service(resource("/ws").route(web::get().to(ws::connect)));
}
