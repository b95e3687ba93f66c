//! The OpenAPI description served at `/openapi.json`. Every route in [`super::routes`] is
//! listed here; a test checks the two agree.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
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
    modifiers(&SessionHeader, &CommonAnswers),
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

/// Answers any operation can give besides its own, added where a handler's list lacks them: a
/// 503 when the database does not answer in time (every route but the probes that never ask
/// it), and a 413 for a command body over the size limit.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let failure = |description: &str| {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Failure"))).build();
            ResponseBuilder::new().description(description).content("application/json", content).build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let touches_database = !matches!(path.as_str(), "/ping" | "/healthz" | "/openapi.json");
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                let answers = &mut operation.responses.responses;
                if touches_database && !answers.contains_key("503") {
                    let unavailable = failure("The database did not answer in time (`Unavailable`)");
                    answers.insert("503".into(), unavailable.into());
                }
                let json_body =
                    operation.request_body.as_ref().is_some_and(|body| body.content.contains_key("application/json"));
                if json_body && !answers.contains_key("413") {
                    answers.insert("413".into(), failure("The body is over the size limit (`Unknown`)").into());
                }
            }
        }
    }
}
