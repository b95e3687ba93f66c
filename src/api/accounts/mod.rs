//! Accounts and sessions (docs/API.md §5.1).

pub mod change_password;
pub mod login;
pub mod logout;
pub mod register;
pub mod sessions;
pub mod whoami;
