use actix_web::{HttpRequest, web};
use nosebook_core::state::AppState;
use nosebook_core::users;

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiResult, Failure, Reply, Success};
use crate::http::upload::read_avatar;

/// Replace the caller's avatar: one file field named `file` (docs/API.md §5.2). PNG, JPEG, WebP or GIF
/// by content, at most 5 MB and 40 megapixels (and 160 MB decoded); stored as 400×400 and 100×100
/// JPEGs (the 100 px one at the same URL with `-100.jpg`). Answers the new avatar's URL. At most
/// `NOSEBOOK_AVATAR_DECODES` images are decoded at once; past `NOSEBOOK_AVATAR_WAIT_SECS` of
/// waiting for a turn, 503.
#[utoipa::path(post, path = "/users/change-avatar", tag = "users",
    security(("session" = [])),
    request_body(content_type = "multipart/form-data", description = "One file field named `file`"),
    responses(
        (status = 200, description = "The new avatar's URL", body = Success<String>),
        (status = 400, description = "Not multipart, no `file` field, an unreadable image, over 40 megapixels, or over 160 MB decoded", body = Failure),
        (status = 403, description = "Not signed in (`Not Authenticated`)", body = Failure),
        (status = 413, description = "Over 5 MB", body = Failure),
        (status = 415, description = "Not a PNG, JPEG, WebP or GIF image", body = Failure),
        (status = 503, description = "Every decoding slot stayed busy for the whole wait", body = Failure),
    ))]
pub async fn change_avatar(
    caller: SignedIn,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Payload,
) -> ApiResult<String> {
    let url = users::change_avatar(&state, &caller, read_avatar(&req, body)).await?;
    Ok(Reply::Data(url))
}
