//! Comments under posts (docs/API.md §5.4).

pub mod get;
pub mod list;
pub mod publish;
pub mod remove;
