//! The OpenAPI description served at `/openapi.json`. Every route in [`super::routes`] is
//! listed here; a test checks the two agree.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::envelope::json_response;
use super::{accounts, chats, comments, feed, friendship, likes, posts, service, users, ws};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Nosebook API",
        description = "Wire-compatible with the original Nosebook API (see docs/API.md), with real HTTP status codes. \
                       Every answer is an envelope `{ok, errors?, data?}`. \
                       Examples use the ids of the compatibility seed (`nosebook seed compat`), as user `test_tester`."
    ),
    paths(
        service::ping,
        service::healthz,
        service::readyz,
        openapi,
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
        feed::list::list,
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
        chats::read::read,
        chats::read::reads,
        chats::typing::typing,
        chats::list::list,
        chats::get::get,
        chats::messages::list,
        chats::edit_message::edit,
        chats::remove_message::remove,
        ws::connect,
    ),
    modifiers(&SessionHeader, &WritesThrottled, &CommonAnswers, &Links),
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

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1 description of every route", body = Object)))]
pub async fn openapi() -> HttpResponse {
    json_response(StatusCode::OK, &ApiDoc::openapi())
}

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

/// Where an id that one operation answers (`data.id`) goes next: OpenAPI links, so clients and
/// stateful fuzzing (`scripts/fuzz-api`) can chain a created chat, post or comment into what
/// reads and changes it.
struct Links;

/// A link's name, the target's path and method, and how the id gets there.
type LinkTo = (&'static str, &'static str, &'static str, Pass);

/// How a link passes the id on: as a parameter, or in a command body next to fixed fields.
enum Pass {
    Parameter(&'static str),
    Body(&'static str, serde_json::Value),
}

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use serde_json::json;
        const ID: &str = "$response.body#/data/id";
        let table: [(&str, Vec<LinkTo>); 3] = [
            (
                "/chats/create-group",
                vec![
                    ("GetChat", "/chats/{id}", "get", Pass::Parameter("id")),
                    ("ListMessages", "/messages", "get", Pass::Parameter("chatId")),
                    (
                        "SendMessage",
                        "/conversations/send-message",
                        "post",
                        Pass::Body("chatId", json!({"text": "Hello, group"})),
                    ),
                    ("RenameGroup", "/chats/rename", "post", Pass::Body("chatId", json!({"title": "Renamed"}))),
                    ("AddMembers", "/chats/add-members", "post", Pass::Body("chatId", json!({"userIds": []}))),
                    ("LeaveGroup", "/chats/leave", "post", Pass::Body("chatId", json!({}))),
                ],
            ),
            (
                "/posts/publish",
                vec![
                    ("GetPost", "/posts/{id}", "get", Pass::Parameter("id")),
                    ("ListComments", "/comments", "get", Pass::Parameter("postId")),
                    ("LikePost", "/like/post", "post", Pass::Body("id", json!({}))),
                    ("Comment", "/comments/publish-on-post", "post", Pass::Body("id", json!({"message": "A comment"}))),
                    ("RemovePost", "/posts/remove", "post", Pass::Body("id", json!({}))),
                ],
            ),
            (
                "/comments/publish-on-post",
                vec![
                    ("GetComment", "/comments/{id}", "get", Pass::Parameter("id")),
                    ("LikeComment", "/like/comment", "post", Pass::Body("id", json!({}))),
                    ("RemoveComment", "/comments/remove", "post", Pass::Body("id", json!({}))),
                ],
            ),
        ];
        for (producer, links) in table {
            let Some(operation) = openapi.paths.paths.get_mut(producer).and_then(|item| item.post.as_mut()) else {
                continue;
            };
            let Some(utoipa::openapi::RefOr::T(created)) = operation.responses.responses.get_mut("200") else {
                continue;
            };
            for (name, path, method, pass) in links {
                let target = format!("#/paths/{}/{method}", path.replace('~', "~0").replace('/', "~1"));
                // utoipa 5.5 writes a link's own fields in snake_case (`operation_ref`), which no
                // client reads; the extension map is written as is, so the fields go there.
                let mut fields = Extensions::default();
                fields.insert("operationRef".into(), json!(target));
                match pass {
                    Pass::Parameter(parameter) => fields.insert("parameters".into(), json!({ parameter: ID })),
                    Pass::Body(field, mut body) => {
                        body[field] = json!(ID);
                        fields.insert("requestBody".into(), body)
                    }
                };
                let link = LinkBuilder::new().extensions(Some(fields)).build();
                created.links.insert(name.to_owned(), link.into());
            }
        }
    }
}
