//! Reading an uploaded file from a multipart body (the avatar forms of both doors), with a bound
//! on what is read whatever the client declares.

use actix_multipart::{Multipart, MultipartError};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use nosebook_core::domain::avatar;
use nosebook_core::{CoreError, Kind, Refusal};

/// A body is read to its end before a 413 (clients rarely read a response sent mid-upload), but
/// never further than this: a longer one is refused before reading (by its length) or cut off.
const AVATAR_READ_AT_MOST: usize = 4 * avatar::MAX_BYTES;

/// An avatar upload: the `file` field, at most 5 MB.
pub async fn read_avatar(req: &HttpRequest, body: web::Payload) -> Result<Vec<u8>, CoreError> {
    read_file(req, body, avatar::MAX_BYTES, AVATAR_READ_AT_MOST, "Avatars are at most 5 MB").await
}

fn not_multipart() -> CoreError {
    CoreError::invalid(Kind::Unknown, "request Content-Type isn't multipart/form-data")
}

fn malformed(e: MultipartError) -> CoreError {
    CoreError::invalid(Kind::Unknown, format!("malformed multipart body: {e}"))
}

/// The first `file` field of the multipart body: at most `max_file` bytes, and at most
/// `read_at_most` bytes read in all; past either, refused as too large with `too_large`'s text.
pub async fn read_file(
    req: &HttpRequest,
    body: web::Payload,
    max_file: usize,
    read_at_most: usize,
    too_large: &'static str,
) -> Result<Vec<u8>, CoreError> {
    let too_large = || CoreError::refused(Refusal::TooLarge, Kind::Unknown, too_large);
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > read_at_most) {
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
            if read > read_at_most {
                return Err(too_large());
            }
            if wanted && !too_big {
                if bytes.len() + chunk.len() > max_file {
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
    file.ok_or_else(|| CoreError::invalid(Kind::Unknown, "http: no such file"))
}
