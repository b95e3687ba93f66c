//! The caller's own sessions: where they are signed in, and ending any of them.
//!
//! A session id is the credential itself, so the list never shows one: each session is named by
//! a handle derived from its id (16 hex digits of its SHA-256), which is useless for signing in.

use actix_web::web;
use nosebook_core::accounts;
use nosebook_core::state::AppState;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, string_or_null};

pub use nosebook_core::accounts::{OwnSession, handle};

#[utoipa::path(get, path = "/sessions", tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 200, description = "The caller's sessions: the current one, then the others most recently used first", body = Success<Vec<OwnSession>>),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
    ))]
pub async fn list(caller: SignedIn, state: web::Data<AppState>) -> ApiResult<Vec<OwnSession>> {
    Ok(Reply::Data(accounts::own_sessions(&state, &caller).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct EndSessionCommand {
    /// The session's handle from `GET /sessions`.
    #[serde(deserialize_with = "string_or_null")]
    #[schema(required = true, pattern = "^[0-9a-f]{16}$")]
    pub handle: String,
}

/// Ends one of the caller's sessions (the current one too: that is a logout). Its sockets, on
/// every node, are closed with 4001.
#[utoipa::path(post, path = "/sessions/end", tag = "accounts", request_body = EndSessionCommand,
    security(("session" = [])),
    responses(
        (status = 200, description = "Ended", body = Success<bool>),
        (status = 400, description = "No handle (`SessionError`)", body = Failure),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
        (status = 404, description = "No such session of the caller's (`SessionError`)", body = Failure),
    ))]
pub async fn end(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<EndSessionCommand>,
) -> ApiResult<bool> {
    accounts::end_session(&state, &caller, &cmd.handle).await?;
    Ok(Reply::Data(true))
}
