//! Values that are checked once, at the boundary: after parsing, the type proves the value is
//! valid (docs/API.md §0.4).

pub mod account;
pub mod avatar;
pub mod text;
