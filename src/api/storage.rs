//! `GET /storage/<key>`: the objects of the storage, served by this server — how a local
//! directory store is published (an S3 store is usually fetched from its own public URL, but the
//! route works for it too). Only avatar images are served.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::api::envelope::ApiError;
use crate::domain::avatar;
use crate::state::AppState;

pub async fn serve(state: web::Data<AppState>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = key.into_inner();
    let servable = key.starts_with("users/avatars/") && key.ends_with(".jpg") && !key.split('/').any(|s| s == "..");
    if !servable {
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
