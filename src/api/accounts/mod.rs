//! Accounts and sessions (docs/API.md §5.1).

pub mod change_password;
pub mod login;
pub mod logout;
pub mod register;
pub mod sessions;
pub mod whoami;

use actix_web::HttpRequest;

use crate::api::input::UserAgent;
use crate::core::accounts::Client;
use crate::state::AppState;

/// Who signs up or in: the address limits count by, the device the session remembers.
fn client(state: &AppState, req: &HttpRequest, user_agent: UserAgent) -> Client {
    Client { ip: state.limits.client_ip(req), user_agent: user_agent.0 }
}
