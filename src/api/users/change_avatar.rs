use actix_multipart::{Multipart, MultipartError};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use nosebook_actors::UserChanged;
use nosebook_schema::queries::users;
use nosebook_schema::{AsyncConnection, DbError};

use crate::api::auth::SignedIn;
use crate::api::envelope::{ApiError, ApiResult, Failure, Reply, Success};
use crate::domain::avatar::{self, AvatarError};
use crate::events::Control;
use crate::metrics::AVATAR_UPLOADS;
use crate::state::AppState;

const KIND: &str = "User Service Error";
/// A body is read to its end before a 413 (clients rarely read a response sent mid-upload), but
/// never further than this: a longer one is refused before reading (by its length) or cut off.
const READ_AT_MOST: usize = 4 * avatar::MAX_BYTES;

/// Replace the caller's avatar: one file field named `file` (API.md §5.2). PNG, JPEG, WebP or GIF
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
    let outcome = upload(&caller, &state, &req, body).await;
    let result = if outcome.is_ok() { "stored" } else { "refused" };
    metrics::counter!(AVATAR_UPLOADS, "result" => result).increment(1);
    outcome
}

async fn upload(caller: &SignedIn, state: &AppState, req: &HttpRequest, body: web::Payload) -> ApiResult<String> {
    let file = read_file(req, body).await?;
    // Taken once the body is in: a slow upload holds no slot.
    let slot =
        state.avatar_decodes.slot().await.map_err(|_| {
            ApiError::unavailable(KIND, "Too many images are being processed; try again in a few seconds")
        })?;
    let image = web::block(move || {
        let _slot = slot;
        avatar::process(&file)
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("image worker: {e}")))?
    .map_err(|e| match e {
        AvatarError::Unsupported => ApiError::unsupported_media_type(KIND, e.to_string()),
        AvatarError::TooManyPixels { .. } | AvatarError::TooLargeToDecode { .. } | AvatarError::Unreadable(_) => {
            ApiError::bad_input(KIND, e.to_string())
        }
    })?;

    // Generated keys, never the uploaded name; content-addressed, so the URL changes with the image.
    let me = caller.user.id;
    let key = format!("users/avatars/{me}/{}", image.digest);
    let (large, small) = (large_key(&key), small_key(&key));
    state.storage.put(&large, image.large, avatar::CONTENT_TYPE).await.map_err(anyhow::Error::from)?;
    state.storage.put(&small, image.small, avatar::CONTENT_TYPE).await.map_err(anyhow::Error::from)?;

    let url = state.storage.url(&large);
    let now = state.clock.now();
    let mut conn = state.db.get().await?;
    let replaced = conn
        .transaction(async |conn| {
            let previous = users::replace_avatar(conn, me, &url, &key, now).await?;
            // Every node reloads its cached copy of this user (see `Control`).
            crate::events::queue_control(conn, Control::UserChanged { user_id: me.0 }).await?;
            Ok::<_, DbError>(previous)
        })
        .await;
    let previous = match replaced {
        Ok(Some(previous)) => previous,
        Ok(None) => return Err(ApiError::not_found(KIND, "Пользователь не найден")),
        Err(e) => {
            // The row still names the old avatar: the new objects are orphans.
            remove(state, &key).await;
            return Err(e.into());
        }
    };
    state.events_committed();
    // This node at once: the caller's next request already sees the new avatar.
    if let Err(e) = state.sessions.send(UserChanged(me)).await {
        tracing::warn!(error = %e, "session directory unreachable; cached sessions keep the old avatar");
    }
    // Uploading the same picture again gives the same key: nothing to delete then.
    if let Some(old) = previous.filter(|old| *old != key) {
        remove(state, &old).await;
    }
    Ok(Reply::Data(url))
}

fn large_key(key: &str) -> String {
    format!("{key}-{}.jpg", avatar::LARGE)
}

fn small_key(key: &str) -> String {
    format!("{key}-{}.jpg", avatar::SMALL)
}

/// Deletes both versions; a failure leaves an orphan object, never a broken avatar.
async fn remove(state: &AppState, key: &str) {
    for object in [large_key(key), small_key(key)] {
        if let Err(e) = state.storage.delete(&object).await {
            tracing::warn!(error = %e, %object, "could not delete an old avatar object");
        }
    }
}

fn not_multipart() -> ApiError {
    ApiError::bad_input("Unknown", "request Content-Type isn't multipart/form-data")
}

fn malformed(e: MultipartError) -> ApiError {
    ApiError::bad_input("Unknown", format!("malformed multipart body: {e}"))
}

/// The bytes of the `file` field, at most [`avatar::MAX_BYTES`].
async fn read_file(req: &HttpRequest, body: web::Payload) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > READ_AT_MOST) {
        return Err(too_large());
    }
    let mut parts = Multipart::new(req.headers(), body);
    let mut file: Option<Vec<u8>> = None;
    let mut read = 0usize;
    let mut too_big = false;
    while let Some(field) = parts.next().await {
        let mut field = match field {
            Ok(field) => field,
            Err(
                MultipartError::ContentTypeMissing
                | MultipartError::ContentTypeParse
                | MultipartError::ContentTypeIncompatible
                | MultipartError::BoundaryMissing,
            ) => return Err(not_multipart()),
            Err(e) => return Err(malformed(e)),
        };
        // The first `file` field counts; anything else is read and dropped.
        let wanted = file.is_none() && field.name() == Some("file");
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            read += chunk.len();
            if read > READ_AT_MOST {
                return Err(too_large());
            }
            if wanted && !too_big {
                if bytes.len() + chunk.len() > avatar::MAX_BYTES {
                    too_big = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(&chunk);
                }
            }
        }
        if wanted {
            file = Some(bytes);
        }
    }
    if too_big {
        return Err(too_large());
    }
    file.ok_or_else(|| ApiError::bad_input("Unknown", "http: no such file"))
}

fn too_large() -> ApiError {
    ApiError::payload_too_large("Avatars are at most 5 MB")
}
