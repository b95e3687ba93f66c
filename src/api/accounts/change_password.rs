//! Changing one's password: the old one proves it is the owner, and every other session ends
//! (a stolen session must not survive the change meant to shut its thief out).

use actix_web::web;
use nosebook_core::accounts;
use nosebook_core::state::AppState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, string_or_null};

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ChangePasswordCommand {
    #[serde(deserialize_with = "string_or_null")]
    #[schema(required = true)]
    pub old_password: String,
    /// 8 to 256 bytes.
    #[serde(deserialize_with = "string_or_null")]
    #[schema(required = true)]
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChanged {
    /// How many other sessions were ended.
    pub ended_sessions: usize,
}

#[utoipa::path(post, path = "/users/change-password", tag = "accounts", request_body = ChangePasswordCommand,
    security(("session" = [])),
    responses(
        (status = 200, description = "Changed; every other session ended", body = Success<PasswordChanged>),
        (status = 400, description = "Missing or invalid fields (`Unknown`)", body = Failure),
        (status = 401, description = "The old password is wrong (`PasswordError`)", body = Failure),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
    ))]
pub async fn change_password(
    caller: SignedIn,
    state: web::Data<AppState>,
    Command(cmd): Command<ChangePasswordCommand>,
) -> ApiResult<PasswordChanged> {
    let changed = accounts::change_password(&state, &caller, &cmd.old_password, &cmd.new_password).await?;
    Ok(Reply::Data(PasswordChanged { ended_sessions: changed.ended_sessions }))
}
