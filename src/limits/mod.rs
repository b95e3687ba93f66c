//! The limits on abuse at the doors: the write throttle, a middleware before every handler. The
//! limits themselves are the use cases' (`nosebook_core::limits`).

pub mod writes;
