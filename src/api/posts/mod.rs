//! Posts on walls (docs/API.md §5.3).

pub mod get;
pub mod list;
pub mod publish;
pub mod remove;
