//! The friendship graph (API.md §5.6): requests, answers, unfriending, lists and relations.

pub mod accept;
pub mod cancel;
pub mod deny;
pub mod list;
pub mod relation;
pub mod remove;
pub mod send;

use crate::api::envelope::ApiError;

const KIND: &str = "Friendship Error";

fn request_not_found() -> ApiError {
    ApiError::not_found(KIND, "Заявка не найдена")
}
