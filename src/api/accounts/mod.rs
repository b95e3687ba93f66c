//! Accounts and sessions (API.md §5.1).

pub mod change_password;
pub mod login;
pub mod logout;
pub mod register;
pub mod sessions;
pub mod whoami;

use nosebook_actors::EndSession;
use nosebook_schema::ids::SessionId;
use nosebook_schema::models::SessionRow;
use nosebook_schema::time::{Clock, SESSION_TTL};

use crate::api::envelope::ApiError;
use crate::domain::account::Problems;
use crate::state::AppState;

/// A new session for a user who just proved who they are.
fn new_session(user_id: nosebook_schema::ids::UserId, clock: &Clock) -> SessionRow {
    let now = clock.now();
    SessionRow { session_id: SessionId::new_random(), user_id, created_at: now, expires_at: now + SESSION_TTL }
}

fn invalid(problems: Problems) -> ApiError {
    ApiError::bad_input("Unknown", problems.to_string())
}

/// After a commit that ended sessions: wakes the relay (their control messages close their
/// sockets and drop cached copies on every node) and forgets them on this node at once, so no
/// request here can use them meanwhile.
async fn forget_here(state: &AppState, ended: &[SessionId]) -> Result<(), ApiError> {
    state.events_committed();
    for id in ended {
        if let Err(e) = state.sessions.send(EndSession(*id)).await {
            return Err(ApiError::Internal(anyhow::anyhow!("session directory: {e}")));
        }
    }
    Ok(())
}
