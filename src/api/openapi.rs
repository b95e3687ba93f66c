//! The OpenAPI description served at `/openapi.json`. Every route in [`super::routes`] is
//! listed here; a test checks the two agree.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{accounts, chats, comments, friendship, likes, posts, service, users, ws};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Nosebook API",
        description = "Wire-compatible with the original Nosebook API (see API.md), with real HTTP status codes. \
                       Every answer is an envelope `{ok, errors?, data?}`. \
                       Examples use the ids of the compatibility seed (`nosebook seed compat`), as user `test_tester`."
    ),
    paths(
        service::ping,
        service::healthz,
        service::readyz,
        service::openapi,
        accounts::register::register,
        accounts::login::login,
        accounts::logout::logout,
        accounts::whoami::whoami,
        users::get::get_user,
        users::change_avatar::change_avatar,
        users::search::search_users,
        posts::publish::publish,
        posts::remove::remove,
        posts::list::list,
        posts::get::get,
        comments::publish::publish,
        comments::remove::remove,
        comments::list::list,
        comments::get::get,
        likes::post::like_post,
        likes::comment::like_comment,
        friendship::send::send,
        friendship::accept::accept,
        friendship::deny::deny,
        friendship::remove::remove,
        friendship::cancel::cancel,
        friendship::list::list,
        friendship::relation::relation_between,
        chats::send::send,
        chats::create_group::create_group,
        chats::add_members::add_members,
        chats::leave::leave,
        chats::rename::rename,
        chats::list::list,
        chats::get::get,
        chats::messages::list,
        ws::connect,
    ),
    modifiers(&SessionHeader),
    tags(
        (name = "accounts", description = "Registration, login and sessions"),
        (name = "users", description = "People and their online status"),
        (name = "posts", description = "Posts on walls"),
        (name = "comments", description = "Comments under posts"),
        (name = "likes", description = "Likes of posts and comments"),
        (name = "friendship", description = "Friend requests and friends"),
        (name = "chats", description = "Private and group chats, messages"),
        (name = "realtime", description = "The WebSocket of live events"),
        (name = "service", description = "Probes and this document"),
    )
)]
pub struct ApiDoc;

struct SessionHeader;

impl Modify for SessionHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(super::auth::SESSION_HEADER))),
        );
    }
}
