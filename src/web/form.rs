//! The app's form bodies: `web::Form`, with NUL refused as bad input before any handler sees it
//! (see `crate::http` for why NUL is refused everywhere text comes in). A refused body gets a
//! plain-text answer, as a browser shows it.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use actix_web::error::{ErrorBadRequest, ErrorPayloadTooLarge};

use crate::http::{NUL_REFUSED, has_encoded_nul};

/// Form bodies are a few fields; the avatar upload is multipart and has its own limit.
const MAX_FORM_BYTES: usize = 64 * 1024;

pub struct Form<T>(pub T);

impl<T> Form<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Form<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let bytes = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            if bytes.len() > MAX_FORM_BYTES {
                return Err(ErrorPayloadTooLarge(format!("form exceeds {MAX_FORM_BYTES} bytes")));
            }
            if has_encoded_nul(&String::from_utf8_lossy(&bytes)) {
                return Err(ErrorBadRequest(NUL_REFUSED));
            }
            // The checked bytes, read again by actix's own form decoding.
            let form = web::Form::<T>::from_request(&req, &mut Payload::from(bytes)).await?;
            Ok(Form(form.into_inner()))
        })
    }
}
