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
                       Every answer is an envelope `{ok, errors?, data?}`."
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
        accounts::sessions::list,
        accounts::sessions::end,
        accounts::change_password::change_password,
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
    modifiers(&SessionHeader, &WritesThrottled),
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

/// Every `POST` of a signed-in caller counts against the writes limit (`limits::writes`), so
/// each may answer 429; the routes with a limit of their own document theirs.
struct WritesThrottled;

impl Modify for WritesThrottled {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::{Content, ObjectBuilder, Ref, ResponseBuilder, Type};
        let throttled = ResponseBuilder::new()
            .description("Too many writes by this user (`Too Many Requests`)")
            .content("application/json", Content::new(Some(Ref::from_schema_name("Failure"))))
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds to wait"))
                    .build(),
            )
            .build();
        for (path, item) in &mut openapi.paths.paths {
            if path == "/logout" {
                continue;
            }
            if let Some(operation) = item.post.as_mut() {
                operation.responses.responses.entry("429".to_owned()).or_insert_with(|| throttled.clone().into());
            }
        }
    }
}
