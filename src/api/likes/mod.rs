//! Likes of posts and comments: toggles (docs/API.md §5.5).

pub mod comment;
pub mod post;

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::input::go_uuid;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ToggleLike {
    /// The post's or comment's id.
    #[serde(deserialize_with = "go_uuid")]
    pub id: Uuid,
}
