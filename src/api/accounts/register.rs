use actix_web::{HttpRequest, web};
use nosebook_schema::ids::UserId;
use nosebook_schema::models::NewUser;
use nosebook_schema::queries::{sessions, users};
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{invalid, new_session};
use crate::api::auth::Anonymous;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, UserAgent, string_or_null};
use crate::api::wire::{SelfUser, SignedInUser};
use crate::domain::account::{Form, Nick, Password, PersonName, Problems};
use crate::state::AppState;

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
    user_agent: UserAgent,
) -> ApiResult<SignedInUser> {
    let mut problems = Problems::default();
    let first_name = PersonName::parse(&cmd.first_name, Form::Register, "FirstName", &mut problems);
    let last_name = PersonName::parse(&cmd.last_name, Form::Register, "LastName", &mut problems);
    let nick = Nick::parse(&cmd.nick, Form::Register, &mut problems);
    let password = Password::parse(&cmd.password, Form::Register, &mut problems);
    let (Some(first_name), Some(last_name), Some(nick), Some(password)) = (first_name, last_name, nick, password)
    else {
        return Err(invalid(problems));
    };

    // Counted once the form is valid, before the costly hash: a taken nick counts too.
    state.limits.signup(&req)?;
    let passhash = state.passwords.hash(password.into_inner()).await?;
    let now = state.clock.now();
    let new_user = NewUser {
        id: UserId::new_random(),
        first_name: first_name.as_str(),
        last_name: last_name.as_str(),
        nick: nick.as_str(),
        passhash: &passhash,
        created_at: now,
        last_activity_at: now,
    };
    let session = new_session(new_user.id, &state.clock);
    let mut conn = state.db.get().await?;
    let created = conn
        .transaction(async |conn| {
            let user = users::insert(conn, &new_user).await?;
            sessions::insert(conn, &session, user_agent.as_deref()).await?;
            Ok::<_, DbError>(user)
        })
        .await;
    match created {
        Ok(user) => Ok(Reply::Data(SignedInUser { user: SelfUser::from(user), session: session.into() })),
        Err(e) if e.is_unique_violation() => Err(ApiError::conflict("NickError", "Логин занят")),
        Err(e) => Err(e.into()),
    }
}
