//! Users (API.md §5.2).

pub mod get;
pub mod search;
