//! Accounts and sessions (docs/API.md §5.1): signing up and in, out, changing one's password,
//! and the caller's own sessions. Ending a session tells every node (a `Control` message) and
//! this node's session directory at once.

use std::net::IpAddr;

use nosebook_actors::{Caller, EndSession};
use nosebook_events::Control;
use nosebook_events::wire::{SelfUser, Session, SignedInUser, WireTime};
use nosebook_schema::ids::{SessionId, UserId};
use nosebook_schema::models::{NewUser, SessionRow};
use nosebook_schema::queries::login_failures::{self, Attempt};
use nosebook_schema::queries::sessions::{self, SessionListing};
use nosebook_schema::queries::users;
use nosebook_schema::time::{Clock, SESSION_TTL};
use nosebook_schema::{AsyncConnection, DbError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{CoreError, CoreResult, Kind};
use crate::domain::account::{Form, Nick, Password, PersonName, Problems};
use crate::limits;
use crate::passwords::Verdict;
use crate::state::AppState;

/// Where a request to sign up or in comes from: limits count by address, and a new session
/// remembers its device.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

fn new_session(user_id: UserId, clock: &Clock) -> SessionRow {
    let now = clock.now();
    SessionRow { session_id: SessionId::new_random(), user_id, created_at: now, expires_at: now + SESSION_TTL }
}

fn invalid(problems: Problems) -> CoreError {
    CoreError::InvalidForm(problems)
}

/// Ended sessions are forgotten on this node now, not when their control message comes back.
async fn forget_here(state: &AppState, ended: &[SessionId]) -> CoreResult<()> {
    for id in ended {
        if let Err(e) = state.sessions.send(EndSession(*id)).await {
            return Err(CoreError::internal(format!("session directory: {e}")));
        }
    }
    Ok(())
}

/// The sign-up form as typed.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub first_name: String,
    pub last_name: String,
    pub nick: String,
    pub password: String,
}

/// A new account, signed in.
pub async fn register(state: &AppState, form: &Registration, client: &Client) -> CoreResult<SignedInUser> {
    let mut problems = Problems::default();
    let first_name = PersonName::parse(&form.first_name, Form::Register, "FirstName", &mut problems);
    let last_name = PersonName::parse(&form.last_name, Form::Register, "LastName", &mut problems);
    let nick = Nick::parse(&form.nick, Form::Register, &mut problems);
    let password = Password::parse(&form.password, Form::Register, &mut problems);
    let (Some(first_name), Some(last_name), Some(nick), Some(password)) = (first_name, last_name, nick, password)
    else {
        return Err(invalid(problems));
    };
    // Counted once the form is valid, before the costly hash: a taken nick counts too.
    state.limits.signup(client.ip)?;
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
            sessions::insert(conn, &session, client.user_agent.as_deref()).await?;
            Ok::<_, DbError>(user)
        })
        .await;
    match created {
        Ok(user) => Ok(SignedInUser { user: SelfUser::from(user), session: session.into() }),
        Err(e) if e.is_unique_violation() => Err(CoreError::conflict(Kind::Nick, "Логин занят")),
        Err(e) => Err(e.into()),
    }
}

/// Signs in with a nick and a password. Failed attempts are counted per account (when the limit
/// is on) and lock it for a growing while.
pub async fn login(state: &AppState, nick: &str, password: &str, client: &Client) -> CoreResult<SignedInUser> {
    let mut problems = Problems::default();
    if nick.is_empty() {
        // Only presence is checked: a nick that could never be registered is simply unknown.
        problems.required(Form::Login, "Nick");
    }
    let password = Password::parse(password, Form::Login, &mut problems);
    let (false, Some(password)) = (nick.is_empty(), password) else {
        return Err(invalid(problems));
    };
    let policy = state.limits.login_policy();
    let credentials = {
        let mut conn = state.db.get().await?;
        let credentials = users::credentials_by_nick(&mut conn, nick).await?;
        if let (Some(credentials), Some(policy)) = (&credentials, policy) {
            let now = state.clock.now();
            // Counted before the password is checked: see `login_failures`.
            let attempt = login_failures::attempt(&mut conn, credentials.user_id, now, policy);
            if let Attempt::Locked { until } = attempt.await? {
                limits::refused("login");
                let wait = (until - now).to_std().unwrap_or_default();
                return Err(CoreError::too_many_requests("Too many failed logins for this account", wait));
            }
        }
        credentials
    };
    // Checked even for an unknown nick (against a decoy), so both answers take as long.
    let stored = credentials.as_ref().map(|c| c.passhash.clone());
    let verdict = state.passwords.verify(password.into_inner(), stored).await?;
    let Some(credentials) = credentials else {
        return Err(CoreError::bad_credentials(Kind::Nick, "Пользователь с таким логином отсутствует"));
    };
    let Verdict::Match { upgrade } = verdict else {
        return Err(CoreError::bad_credentials(Kind::Password, "Некорректный пароль"));
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
            sessions::insert(conn, &session, client.user_agent.as_deref()).await?;
            users::find(conn, credentials.user_id).await?.ok_or(DbError::Query(diesel::result::Error::NotFound))
        })
        .await?;
    Ok(SignedInUser { user: SelfUser::from(user), session: session.into() })
}

/// Ends the caller's session, on every node.
pub async fn logout(state: &AppState, caller: &Caller) -> CoreResult<Session> {
    let id = caller.session.session_id;
    let mut conn = state.change_conn().await?;
    let deleted = conn
        .transaction(async |conn| {
            let deleted = sessions::delete(conn, id).await?;
            // Every other node drops its cached copy when this reaches it (see `Control`).
            nosebook_events::queue_control(conn, Control::SessionEnded { session_id: id.0 }).await?;
            Ok::<_, DbError>(deleted)
        })
        .await?;
    // Forget it on this node now, whatever the database said: no cached copy may outlive it.
    forget_here(state, &[id]).await?;
    match deleted {
        // The caller's copy holds the expiry this very request slid forward.
        Some(_) => Ok(caller.session.into()),
        None => Err(CoreError::not_found(Kind::Logout, "Сессии не существует")),
    }
}

/// How many other sessions a password change ended.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChanged {
    pub ended_sessions: usize,
}

/// Changes the caller's password: the old one proves it is the owner, and every other session
/// ends (a stolen session must not survive the change meant to shut its thief out).
pub async fn change_password(state: &AppState, caller: &Caller, old: &str, new: &str) -> CoreResult<PasswordChanged> {
    let mut problems = Problems::default();
    let old = Password::parse_field(old, Form::ChangePassword, "OldPassword", false, &mut problems);
    let new = Password::parse_field(new, Form::ChangePassword, "NewPassword", true, &mut problems);
    let (Some(old), Some(new)) = (old, new) else {
        return Err(invalid(problems));
    };
    let user = caller.user.id;
    let stored = {
        let mut conn = state.db.get().await?;
        users::passhash(&mut conn, user).await?
    };
    let Verdict::Match { .. } = state.passwords.verify(old.into_inner(), stored).await? else {
        return Err(CoreError::bad_credentials(Kind::Password, "The old password is wrong"));
    };
    let hash = state.passwords.hash(new.into_inner()).await?;
    let keep = caller.session.session_id;
    let mut conn = state.change_conn().await?;
    let ended = conn
        .transaction(async |conn| {
            users::set_passhash(conn, user, &hash).await?;
            let ended = sessions::delete_others(conn, user, keep).await?;
            for id in &ended {
                nosebook_events::queue_control(conn, Control::SessionEnded { session_id: id.0 }).await?;
            }
            Ok::<_, DbError>(ended)
        })
        .await?;
    forget_here(state, &ended).await?;
    Ok(PasswordChanged { ended_sessions: ended.len() })
}

/// A session id is the credential itself, so the list never shows one: each session is named by
/// a handle derived from its id (16 hex digits of its SHA-256), which is useless for signing in.
pub fn handle(id: SessionId) -> String {
    Sha256::digest(id.0.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// One of the caller's sessions, as `GET /sessions` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnSession {
    /// The handle to end it with (not the session id, which is the credential itself).
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub handle: String,
    /// True for the session this request came with.
    pub current: bool,
    pub created_at: WireTime,
    /// The last request made with it (its expiry slides 48 hours past each use).
    pub last_used_at: WireTime,
    pub expires_at: WireTime,
    /// The `User-Agent` it was opened with, when there was one.
    pub user_agent: Option<String>,
}

impl OwnSession {
    fn new(row: SessionListing, current: SessionId) -> Self {
        Self {
            handle: handle(row.session_id),
            current: row.session_id == current,
            created_at: WireTime(row.created_at),
            last_used_at: WireTime((row.expires_at - SESSION_TTL).max(row.created_at)),
            expires_at: WireTime(row.expires_at),
            user_agent: row.user_agent,
        }
    }
}

/// Where the caller is signed in: this device first, the rest most recently used first.
pub async fn own_sessions(state: &AppState, caller: &Caller) -> CoreResult<Vec<OwnSession>> {
    let mut conn = state.db.get().await?;
    let rows = sessions::list_for_user(&mut conn, caller.user.id, state.clock.now()).await?;
    let mut own: Vec<_> = rows.into_iter().map(|row| OwnSession::new(row, caller.session.session_id)).collect();
    own.sort_by_key(|s| !s.current);
    Ok(own)
}

/// Ends the caller's session named `handle_text`, on every node.
pub async fn end_session(state: &AppState, caller: &Caller, handle_text: &str) -> CoreResult<()> {
    const KIND: Kind = Kind::Session;
    if handle_text.is_empty() {
        return Err(CoreError::invalid(KIND, "handle is required"));
    }
    let mut conn = state.change_conn().await?;
    let rows = sessions::list_for_user(&mut conn, caller.user.id, state.clock.now()).await?;
    let Some(target) = rows.iter().map(|r| r.session_id).find(|id| handle(*id) == handle_text) else {
        return Err(CoreError::not_found(KIND, "No such session"));
    };
    let user = caller.user.id;
    let ended = conn
        .transaction(async |conn| {
            let ended = sessions::delete_of_user(conn, user, target).await?;
            if ended {
                nosebook_events::queue_control(conn, Control::SessionEnded { session_id: target.0 }).await?;
            }
            Ok::<_, DbError>(ended)
        })
        .await?;
    if !ended {
        return Err(CoreError::not_found(KIND, "No such session"));
    }
    forget_here(state, &[target]).await?;
    Ok(())
}
