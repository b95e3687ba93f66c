//! Users (docs/API.md §5.2).

pub mod change_avatar;
pub mod get;
pub mod search;
