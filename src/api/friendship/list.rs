use actix_web::web;
use nosebook_core::state::AppState;
use nosebook_core::{Kind, friendship};
use nosebook_events::wire::{FriendshipItem, PageOf};
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::friendship::{Direction, FriendshipFilter};
use nosebook_schema::time::ONLINE_WINDOW;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::api::input::QueryParams;

pub(super) const KIND: Kind = Kind::FriendshipPresenter;

/// Anyone's friends and requests (there is no permission check, as in the original: profiles
/// show friends). Newest request first.
#[utoipa::path(get, path = "/friendship", tag = "friendship",
    security(("session" = [])),
    params(
        ("userId" = uuid::Uuid, Query, description = "Whose relations (required)", example = "ed1a3fd0-4d0b-4961-b4cd-cf212357740d"),
        ("accepted" = Option<String>, Query, description = "Filter: `true` friends, anything else pending"),
        ("viewed" = Option<String>, Query, description = "Filter: `true` viewed, anything else not viewed"),
        ("onlyIncoming" = Option<String>, Query, description = "Present: only requests sent to userId"),
        ("onlyOutcoming" = Option<String>, Query, description = "Present: only requests userId sent (wins over onlyIncoming)"),
        ("onlyOnline" = Option<String>, Query, description = "Present: only other users who are online"),
        ("limit" = Option<u32>, Query, description = "Page size, default 10, at most 20"),
        ("next" = Option<String>, Query, description = "Cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of relations", body = Success<PageOf<FriendshipItem>>),
        (status = 400, description = "Missing or bad userId, bad limit or cursor (`Friendship Presenter Error`)", body = Failure),
        (status = 403, description = "Not signed in", body = Failure),
    ))]
pub async fn list(_: SignedIn, state: web::Data<AppState>, query: QueryParams) -> ApiResult<PageOf<FriendshipItem>> {
    let user = UserId(query.required_id("userId", KIND)?);
    let limit = query.limit(KIND)?;
    let after = query.cursor("next", KIND)?;
    let direction = if query.has("onlyOutcoming") {
        Direction::Outgoing
    } else if query.has("onlyIncoming") {
        Direction::Incoming
    } else {
        Direction::Both
    };
    let filter = FriendshipFilter {
        user,
        direction,
        accepted: query.is_true("accepted"),
        viewed: query.is_true("viewed"),
        active_since: query.has("onlyOnline").then(|| state.clock.now() - ONLINE_WINDOW),
    };
    Ok(Reply::Data(friendship::list(&state, filter, after, limit).await?))
}
