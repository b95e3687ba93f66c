//! News: the home feed (docs/API.md §5.8).

pub mod list;
