//! The response envelope `{ok, errors?, data?}` (API.md §1.3) and the one error type every
//! handler returns. This file is the only place an error becomes an HTTP response.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use nosebook_schema::DbError;
use serde::Serialize;
use utoipa::ToSchema;

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// `{"ok":true,"data":…}`
#[derive(Debug, Serialize, ToSchema)]
pub struct Success<T> {
    pub ok: bool,
    pub data: T,
}

/// `{"ok":true,"data":…}`, or `{"ok":true}` without `data` when there is nothing to show
/// ([`Reply::Empty`]). Only describes that answer in the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuccessOrEmpty<T> {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

/// `{"ok":false,"errors":[{type, message}]}`
#[derive(Debug, Serialize, ToSchema)]
pub struct Failure {
    pub ok: bool,
    pub errors: Vec<WireError>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WireError {
    /// Category the original clients branch on (only `Not Authenticated` matters to them).
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// A successful answer. `Null` and `Empty` exist because the original answers "not found" on a
/// few routes with `data:null` or with no `data` at all (API.md §10.3), and clients rely on it.
#[derive(Debug)]
pub enum Reply<T> {
    Data(T),
    Null,
    Empty,
}

pub type ApiResult<T> = Result<Reply<T>, ApiError>;

pub fn json_response<B: Serialize>(status: StatusCode, body: &B) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            HttpResponse::build(status).insert_header((CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8))).body(bytes)
        }
        Err(e) => {
            tracing::error!(error = %e, "response serialization failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

impl<T: Serialize> Responder for Reply<T> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        #[derive(Serialize)]
        struct OkOnly {
            ok: bool,
        }
        match self {
            Self::Data(data) => json_response(StatusCode::OK, &Success { ok: true, data }),
            Self::Null => json_response(StatusCode::OK, &Success { ok: true, data: () }),
            Self::Empty => json_response(StatusCode::OK, &OkOnly { ok: true }),
        }
    }
}

/// Everything that can go wrong in a request, mapped to a status and an envelope in
/// [`ResponseError`] below. Causes of server-side failures are logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The client's fault or the state of the world: shown to the client as is.
    #[error("{kind}: {message}")]
    Refused { status: StatusCode, kind: &'static str, message: String },
    #[error("database: {0}")]
    Database(#[from] DbError),
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    fn refused(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self::Refused { status, kind, message: message.into() }
    }
    /// 400: malformed or invalid input.
    pub fn bad_input(kind: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::BAD_REQUEST, kind, message)
    }
    /// 401: credentials that do not match.
    pub fn bad_credentials(kind: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::UNAUTHORIZED, kind, message)
    }
    /// 403: the caller may not do this.
    pub fn forbidden(kind: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::FORBIDDEN, kind, message)
    }
    /// 404: the thing acted on does not exist.
    pub fn not_found(kind: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::NOT_FOUND, kind, message)
    }
    /// 409: conflicts with what exists (a taken nick, a request already sent).
    pub fn conflict(kind: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::CONFLICT, kind, message)
    }
    /// 415: content of a kind that is not accepted.
    pub fn unsupported_media_type(kind: &'static str, message: impl Into<String>) -> Self {
        Self::refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, kind, message)
    }
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::refused(StatusCode::PAYLOAD_TOO_LARGE, "Unknown", message)
    }
    pub fn not_authenticated() -> Self {
        Self::forbidden("Not Authenticated", "You are not authenticated")
    }
    pub fn authenticated() -> Self {
        Self::forbidden("Authenticated", "Only unauthenticated users can do it")
    }
    pub fn route_not_found() -> Self {
        Self::not_found("NotFound", "Route not found")
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Refused { status, .. } => *status,
            Self::Database(DbError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (kind, message) = match self {
            Self::Refused { kind, message, .. } => ((*kind).to_owned(), message.clone()),
            Self::Database(DbError::Unavailable(_)) => {
                tracing::error!(error = %self, "request failed: database unavailable");
                ("Unavailable".to_owned(), "Service temporarily unavailable".to_owned())
            }
            Self::Database(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                ("Internal".to_owned(), "Internal server error".to_owned())
            }
        };
        json_response(status, &Failure { ok: false, errors: vec![WireError { kind, message }] })
    }
}
