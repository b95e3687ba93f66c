use actix_web::web;
use nosebook_schema::queries::login_failures::{self, Attempt};
use nosebook_schema::queries::{sessions, users};
use nosebook_schema::{AsyncConnection, DbError};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{invalid, new_session};
use crate::api::auth::Anonymous;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, UserAgent, string_or_null};
use crate::api::wire::{SelfUser, SignedInUser};
use crate::domain::account::{Form, Password, Problems};
use crate::limits;
use crate::passwords::Verdict;
use crate::state::AppState;

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
    state: web::Data<AppState>,
    Command(cmd): Command<LoginCommand>,
    user_agent: UserAgent,
) -> ApiResult<SignedInUser> {
    let mut problems = Problems::default();
    if cmd.nick.is_empty() {
        // Only presence is checked: a nick that could never be registered is simply unknown.
        problems.required(Form::Login, "Nick");
    }
    let password = Password::parse(&cmd.password, Form::Login, &mut problems);
    let (false, Some(password)) = (cmd.nick.is_empty(), password) else {
        return Err(invalid(problems));
    };

    let policy = state.limits.login_policy();
    let credentials = {
        let mut conn = state.db.get().await?;
        let credentials = users::credentials_by_nick(&mut conn, &cmd.nick).await?;
        if let (Some(credentials), Some(policy)) = (&credentials, policy) {
            let now = state.clock.now();
            // Counted before the password is checked: see `login_failures`.
            let attempt = login_failures::attempt(&mut conn, credentials.user_id, now, policy);
            if let Attempt::Locked { until } = attempt.await? {
                limits::refused("login");
                let wait = (until - now).to_std().unwrap_or_default();
                return Err(ApiError::too_many_requests("Too many failed logins for this account", wait));
            }
        }
        credentials
    };
    // Checked even for an unknown nick (against a decoy), so both answers take as long.
    let stored = credentials.as_ref().map(|c| c.passhash.clone());
    let verdict = state.passwords.verify(password.into_inner(), stored).await?;
    let Some(credentials) = credentials else {
        return Err(ApiError::bad_credentials("NickError", "Пользователь с таким логином отсутствует"));
    };
    let Verdict::Match { upgrade } = verdict else {
        return Err(ApiError::bad_credentials("PasswordError", "Некорректный пароль"));
    };

    let session = new_session(credentials.user_id, &state.clock);
    let mut conn = state.db.get().await?;
    let user = conn
        .transaction(async |conn| {
            if let Some(hash) = &upgrade {
                users::set_passhash(conn, credentials.user_id, hash).await?;
            }
            if policy.is_some() {
                login_failures::forgive(conn, credentials.user_id).await?;
            }
            sessions::insert(conn, &session, user_agent.as_deref()).await?;
            users::find(conn, credentials.user_id).await?.ok_or(DbError::Query(diesel::result::Error::NotFound))
        })
        .await?;
    Ok(Reply::Data(SignedInUser { user: SelfUser::from(user), session: session.into() }))
}
