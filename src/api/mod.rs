//! The HTTP API. [`routes`] is the one list of every route; each handler lives in its own file
//! under the area it belongs to.

pub mod accounts;
pub mod auth;
pub mod envelope;
pub mod input;
pub mod openapi;
pub mod service;
pub mod users;
pub mod wire;

use actix_web::{Resource, web};

/// A resource whose wrong methods answer 404 like unknown routes (API.md §1.4), not 405.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(service::not_found))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/ping").route(web::get().to(service::ping)))
        .service(resource("/healthz").route(web::get().to(service::healthz)))
        .service(resource("/readyz").route(web::get().to(service::readyz)))
        .service(resource("/openapi.json").route(web::get().to(service::openapi)))
        .service(resource("/register").route(web::post().to(accounts::register::register)))
        .service(resource("/login").route(web::post().to(accounts::login::login)))
        .service(resource("/logout").route(web::post().to(accounts::logout::logout)))
        .service(resource("/whoami").route(web::get().to(accounts::whoami::whoami)))
        .service(resource("/users").route(web::get().to(users::search::search_users)))
        .service(resource("/users/{id}").route(web::get().to(users::get::get_user)));
}
