//! `GET /storage/<key>`: the objects of the storage, served by this server — how a local
//! directory store is published (an S3 store is usually fetched from its own public URL, but the
//! route works for it too). Only avatar images are served.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use nosebook_core::domain::avatar;
use nosebook_core::state::AppState;

use crate::api::envelope::ApiError;

pub async fn serve(state: web::Data<AppState>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    if !is_avatar_key(&key) {
        return Err(ApiError::route_not_found());
    }
    match state.storage.get(&key).await {
        Ok(Some(bytes)) => Ok(HttpResponse::Ok()
            .content_type(avatar::CONTENT_TYPE)
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            // Keys are content-addressed: an object never changes.
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(bytes)),
        Ok(None) => Err(ApiError::route_not_found()),
        Err(e) => Err(ApiError::Internal(e.into())),
    }
}

/// Exactly the keys uploads generate (`users/avatars/<user id>/<16 hex digits>-<400|100>.jpg`):
/// anything else — empty or dot segments, other characters, other names — is not an object of
/// ours, and never reaches the store (whose own path rules would make it an error, not a 404).
fn is_avatar_key(key: &str) -> bool {
    let mut parts = key.split('/');
    let (Some("users"), Some("avatars"), Some(user), Some(name), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some((digest, size)) = name.split_once('-') else {
        return false;
    };
    uuid::Uuid::try_parse(user).is_ok_and(|id| id.hyphenated().to_string() == user)
        && digest.len() == 16
        && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && matches!(size, "400.jpg" | "100.jpg")
}

#[cfg(test)]
mod tests {
    use super::is_avatar_key;

    #[test]
    fn only_generated_keys_are_servable() {
        let id = "0b5ad5bb-6e4b-4d3c-9d3a-1f0c2b7e8a11";
        assert!(is_avatar_key(&format!("users/avatars/{id}/0123456789abcdef-400.jpg")));
        assert!(is_avatar_key(&format!("users/avatars/{id}/0123456789abcdef-100.jpg")));
        for key in [
            "users/avatars//x.jpg".to_owned(),
            "users/avatars/./x.jpg".to_owned(),
            "users/avatars/a\0b.jpg".to_owned(),
            format!("users/avatars/{id}/../0123456789abcdef-400.jpg"),
            format!("users/avatars/{id}//0123456789abcdef-400.jpg"),
            format!("users/avatars/{id}/0123456789ABCDEF-400.jpg"),
            format!("users/avatars/{id}/0123456789abcdef-400.png"),
            format!("users/avatars/{}/0123456789abcdef-400.jpg", id.to_uppercase()),
            format!("users/avatars/{id}/0123456789abcdef-400.jpg/x"),
            format!("other/{id}/0123456789abcdef-400.jpg"),
        ] {
            assert!(!is_avatar_key(&key), "{key:?}");
        }
    }
}
