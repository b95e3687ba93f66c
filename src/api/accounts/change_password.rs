//! Changing one's password: the old one proves it is the owner, and every other session ends
//! (a stolen session must not survive the change meant to shut its thief out).

use actix_web::web;
use nosebook_schema::queries::{sessions, users};
use nosebook_schema::{AsyncConnection, DbError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{forget_here, invalid};
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, string_or_null};
use crate::domain::account::{Form, Password, Problems};
use crate::events::Control;
use crate::passwords::Verdict;
use crate::state::AppState;

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
    change(&state, &caller, &cmd).await.map(Reply::Data)
}

pub async fn change(
    state: &AppState,
    caller: &SignedIn,
    cmd: &ChangePasswordCommand,
) -> Result<PasswordChanged, ApiError> {
    let mut problems = Problems::default();
    let old = Password::parse_field(&cmd.old_password, Form::ChangePassword, "OldPassword", false, &mut problems);
    let new = Password::parse_field(&cmd.new_password, Form::ChangePassword, "NewPassword", true, &mut problems);
    let (Some(old), Some(new)) = (old, new) else {
        return Err(invalid(problems));
    };
    let user = caller.user.id;
    let stored = {
        let mut conn = state.db.get().await?;
        users::passhash(&mut conn, user).await?
    };
    let Verdict::Match { .. } = state.passwords.verify(old.into_inner(), stored).await? else {
        return Err(ApiError::bad_credentials("PasswordError", "The old password is wrong"));
    };
    let hash = state.passwords.hash(new.into_inner()).await?;
    let keep = caller.session.session_id;
    let mut conn = state.db.get().await?;
    let ended = conn
        .transaction(async |conn| {
            users::set_passhash(conn, user, &hash).await?;
            let ended = sessions::delete_others(conn, user, keep).await?;
            for id in &ended {
                crate::events::queue_control(conn, Control::SessionEnded { session_id: id.0 }).await?;
            }
            Ok::<_, DbError>(ended)
        })
        .await?;
    forget_here(state, &ended).await?;
    Ok(PasswordChanged { ended_sessions: ended.len() })
}
