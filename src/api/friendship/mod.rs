//! The friendship graph (docs/API.md §5.6): requests, answers, unfriending, lists and relations.

pub mod accept;
pub mod cancel;
pub mod deny;
pub mod list;
pub mod relation;
pub mod remove;
pub mod send;
