//! The caller's own sessions: where they are signed in, and ending any of them.
//!
//! A session id is the credential itself, so the list never shows one: each session is named by
//! a handle derived from its id (16 hex digits of its SHA-256), which is useless for signing in.

use actix_web::web;
use nosebook_schema::ids::SessionId;
use nosebook_schema::queries::sessions::{self, SessionListing};
use nosebook_schema::time::SESSION_TTL;
use nosebook_schema::{AsyncConnection, DbError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::forget_here;
use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::api::input::{Command, string_or_null};
use crate::api::wire::WireTime;
use crate::events::Control;
use crate::state::AppState;

const KIND: &str = "SessionError";

/// The name of a session in the list: derived from its id, never the id.
pub fn handle(id: SessionId) -> String {
    Sha256::digest(id.0.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// One of the caller's sessions.
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

/// The caller's unexpired sessions: the current one, then the others most recently used first.
pub async fn own_sessions(state: &AppState, caller: &SignedIn) -> Result<Vec<OwnSession>, ApiError> {
    let mut conn = state.db.get().await?;
    let rows = sessions::list_for_user(&mut conn, caller.user.id, state.clock.now()).await?;
    let mut own: Vec<_> = rows.into_iter().map(|row| OwnSession::new(row, caller.session.session_id)).collect();
    // This device first; the rest stay most recently used first.
    own.sort_by_key(|s| !s.current);
    Ok(own)
}

#[utoipa::path(get, path = "/sessions", tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 200, description = "The caller's sessions: the current one, then the others most recently used first", body = Success<Vec<OwnSession>>),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
    ))]
pub async fn list(caller: SignedIn, state: web::Data<AppState>) -> ApiResult<Vec<OwnSession>> {
    Ok(Reply::Data(own_sessions(&state, &caller).await?))
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
    end_by_handle(&state, &caller, &cmd.handle).await.map(Reply::Data)
}

/// Ends the caller's session named `handle`.
pub async fn end_by_handle(state: &AppState, caller: &SignedIn, handle_text: &str) -> Result<bool, ApiError> {
    if handle_text.is_empty() {
        return Err(ApiError::bad_input(KIND, "handle is required"));
    }
    let mut conn = state.db.get().await?;
    let rows = sessions::list_for_user(&mut conn, caller.user.id, state.clock.now()).await?;
    let Some(target) = rows.iter().map(|r| r.session_id).find(|id| handle(*id) == handle_text) else {
        return Err(ApiError::not_found(KIND, "No such session"));
    };
    let user = caller.user.id;
    let ended = conn
        .transaction(async |conn| {
            let ended = sessions::delete_of_user(conn, user, target).await?;
            if ended {
                crate::events::queue_control(conn, Control::SessionEnded { session_id: target.0 }).await?;
            }
            Ok::<_, DbError>(ended)
        })
        .await?;
    if !ended {
        return Err(ApiError::not_found(KIND, "No such session"));
    }
    forget_here(state, &[target]).await?;
    Ok(true)
}
