use actix_web::{HttpRequest, web};
use nosebook_core::accounts;
use nosebook_core::state::AppState;
use nosebook_events::wire::SignedInUser;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::auth::Anonymous;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct LoginCommand {
    #[serde(deserialize_with = "string_or_null")]
    pub nick: String,
    #[serde(deserialize_with = "string_or_null")]
    pub password: String,
}

/// Sign in with nick and password; opens a new session.
#[utoipa::path(post, path = "/login", tag = "accounts", request_body = LoginCommand,
    responses(
        (status = 200, description = "A new session", body = Success<SignedInUser>),
        (status = 400, description = "Bad JSON or missing fields (`Unknown`)", body = Failure),
        (status = 401, description = "Unknown nick (`NickError`) or wrong password (`PasswordError`)", body = Failure),
        (status = 403, description = "Caller is signed in (`Authenticated`)", body = Failure),
        (status = 429, description = "Too many consecutive failed logins of this account (`Too Many Requests`): \
            no password is checked until `Retry-After` seconds have passed", body = Failure,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn login(
    _: Anonymous,
    req: HttpRequest,
    state: web::Data<AppState>,
    Command(cmd): Command<LoginCommand>,
) -> ApiResult<SignedInUser> {
    let client = crate::http::client(&state.limits, &req);
    Ok(Reply::Data(accounts::login(&state, &cmd.nick, &cmd.password, &client).await?))
}
