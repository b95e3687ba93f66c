use actix_web::{HttpRequest, web};
use nosebook_core::accounts::{self, Registration};
use nosebook_core::state::AppState;
use nosebook_events::wire::SignedInUser;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::auth::Anonymous;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct RegisterCommand {
    #[serde(deserialize_with = "string_or_null")]
    pub first_name: String,
    #[serde(deserialize_with = "string_or_null")]
    pub last_name: String,
    /// 3-32 of `A-Z a-z 0-9 _ .`, unique regardless of case.
    #[serde(deserialize_with = "string_or_null")]
    pub nick: String,
    /// 8-256 bytes.
    #[serde(deserialize_with = "string_or_null")]
    pub password: String,
}

/// Create an account and sign in.
#[utoipa::path(post, path = "/register", tag = "accounts", request_body = RegisterCommand,
    responses(
        (status = 200, description = "Account and first session", body = Success<SignedInUser>),
        (status = 400, description = "Bad JSON or invalid fields (`Unknown`)", body = Failure),
        (status = 403, description = "Caller is signed in (`Authenticated`)", body = Failure),
        (status = 409, description = "Nick taken (`NickError`)", body = Failure),
        (status = 429, description = "Too many sign-ups from this client address (`Too Many Requests`)", body = Failure,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn register(
    _: Anonymous,
    req: HttpRequest,
    state: web::Data<AppState>,
    Command(cmd): Command<RegisterCommand>,
) -> ApiResult<SignedInUser> {
    let form =
        Registration { first_name: cmd.first_name, last_name: cmd.last_name, nick: cmd.nick, password: cmd.password };
    Ok(Reply::Data(accounts::register(&state, &form, &crate::http::client(&state.limits, &req)).await?))
}
