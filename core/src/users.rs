//! People: finding them, reading them (through the user cache, which answers most reads without
//! the database) and changing one's avatar.

use nosebook_actors::{Caller, UserChanged};
use nosebook_events::Control;
use nosebook_events::wire::{PageOf, User};
use nosebook_schema::ids::UserId;
use nosebook_schema::queries::users::{self, SearchCursor};
use nosebook_schema::{AsyncConnection, DbError};

use super::{CoreError, CoreResult, Kind, Refusal};
use crate::domain::avatar::{self, AvatarError};
use crate::state::AppState;

const KIND: Kind = Kind::UserService;
/// People per page of a search.
pub const SEARCH_PAGE: usize = 20;
/// The longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 256;

/// A person as `viewer` sees them. Viewers looking at themselves see themselves active now,
/// the moment of this very request (as every view of the caller does: `present_caller`), not
/// whatever the presence tracker has been told so far.
pub async fn get(state: &AppState, viewer: &Caller, id: UserId) -> CoreResult<Option<User>> {
    // From memory when it can be: no pooled connection taken, no round trip.
    let row = match state.users.cached(id) {
        Some(row) => Some(row),
        None => {
            let mut conn = state.db.get().await?;
            state.users.find(&mut conn, id).await?
        }
    };
    Ok(match row {
        Some(row) if row.id == viewer.user.id => Some(state.present_caller(row)),
        Some(row) => state.present_user(row),
        None => None,
    })
}

/// People whose name or nick matches `text` in either alphabet, the caller's friends first,
/// then friends of friends (API.md §5.2); nobody for an empty or blank text.
pub async fn search(
    state: &AppState,
    caller: UserId,
    text: &str,
    after: Option<SearchCursor>,
) -> CoreResult<PageOf<User>> {
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(CoreError::invalid(
            Kind::UserPresenter,
            format!("text must be at most {MAX_SEARCH_CHARS} characters"),
        ));
    }
    if text.trim().is_empty() {
        return Ok(PageOf::empty());
    }
    let page = {
        let mut conn = state.db.get().await?;
        users::search(&mut conn, caller, text, after, SEARCH_PAGE).await?
    };
    let next = page.next.map(|c| c.to_string());
    let data = state.present_users(page.rows);
    Ok(PageOf { data, total_count: page.total_count, next, prev: None })
}

/// Avatar uploads, by result (`stored`, `refused`).
pub const AVATAR_UPLOADS: &str = "nosebook_avatar_uploads_total";

/// A search's `next` cursor as a client sent it; an unreadable one is 400 `Invalid cursor`.
pub fn search_cursor(raw: &str) -> CoreResult<SearchCursor> {
    SearchCursor::parse(raw).map_err(|e| CoreError::invalid(Kind::UserPresenter, e.to_string()))
}

/// Replaces the caller's avatar with the image `file` reads (PNG, JPEG, WebP or GIF, at most 40
/// megapixels): stored re-encoded as two JPEGs under a content-addressed key, the old ones
/// deleted, every node told. Answers the new avatar's URL.
pub async fn change_avatar(
    state: &AppState,
    caller: &Caller,
    file: impl Future<Output = CoreResult<Vec<u8>>>,
) -> CoreResult<String> {
    let outcome = upload(state, caller, file).await;
    let result = if outcome.is_ok() { "stored" } else { "refused" };
    metrics::counter!(AVATAR_UPLOADS, "result" => result).increment(1);
    outcome
}

async fn upload(
    state: &AppState,
    caller: &Caller,
    file: impl Future<Output = CoreResult<Vec<u8>>>,
) -> CoreResult<String> {
    let file = file.await?;
    // Taken once the body is in: a slow upload holds no slot.
    let slot = state.avatar_decodes.slot().await.map_err(|_| {
        CoreError::refused(
            Refusal::Unavailable,
            KIND,
            "Too many images are being processed; try again in a few seconds",
        )
    })?;
    let image = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        avatar::process(&file)
    })
    .await
    .map_err(|e| CoreError::internal(format!("image worker: {e}")))?
    .map_err(|e| match e {
        AvatarError::Unsupported => CoreError::refused(Refusal::UnsupportedMedia, KIND, e.to_string()),
        AvatarError::TooManyPixels { .. } | AvatarError::TooLargeToDecode { .. } | AvatarError::Unreadable(_) => {
            CoreError::invalid(KIND, e.to_string())
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
    let mut conn = state.change_conn().await?;
    let replaced = conn
        .transaction(async |conn| {
            let previous = users::replace_avatar(conn, me, &url, &key, now).await?;
            // Every node reloads its cached copy of this user (see `Control`).
            nosebook_events::queue_control(conn, Control::UserChanged { user_id: me.0 }).await?;
            Ok::<_, DbError>(previous)
        })
        .await;
    let previous = match replaced {
        Ok(Some(previous)) => previous,
        Ok(None) => return Err(CoreError::not_found(KIND, "Пользователь не найден")),
        Err(e) => {
            // The row still names the old avatar: the new objects are orphans.
            remove(state, &key).await;
            return Err(e.into());
        }
    };
    // This node at once: the caller's next request already sees the new avatar.
    if let Err(e) = state.sessions.send(UserChanged(me)).await {
        tracing::warn!(error = %e, "session directory unreachable; cached sessions keep the old avatar");
    }
    // Uploading the same picture again gives the same key: nothing to delete then.
    if let Some(old) = previous.filter(|old| *old != key) {
        remove(state, &old).await;
    }
    Ok(url)
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
