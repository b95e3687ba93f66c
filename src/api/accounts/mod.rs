//! Accounts and sessions (API.md §5.1).

pub mod login;
pub mod logout;
pub mod register;
pub mod whoami;

use nosebook_schema::ids::SessionId;
use nosebook_schema::models::SessionRow;
use nosebook_schema::time::{Clock, SESSION_TTL};

use crate::api::envelope::ApiError;
use crate::domain::account::Problems;

/// A new session for a user who just proved who they are.
fn new_session(user_id: nosebook_schema::ids::UserId, clock: &Clock) -> SessionRow {
    let now = clock.now();
    SessionRow { session_id: SessionId::new_random(), user_id, created_at: now, expires_at: now + SESSION_TTL }
}

fn invalid(problems: Problems) -> ApiError {
    ApiError::bad_input("Unknown", problems.to_string())
}
