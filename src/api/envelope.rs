//! The response envelope `{ok, errors?, data?}` (docs/API.md §1.3) and the one error type every
//! handler returns. This file is the only place an error becomes an HTTP response.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use nosebook_schema::DbError;

use nosebook_core::{CoreError, Kind, Refusal, retry_after_secs};
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
/// few routes with `data:null` or with no `data` at all (docs/API.md §10.3), and clients rely on it.
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
    Refused { status: StatusCode, kind: Kind, message: String },
    /// 429: a limit on abuse (docs/configuration.md, "Limits"). The answer carries `Retry-After`
    /// (whole seconds, at least 1) and says the same in its message.
    #[error("{message} (retry after {retry_after_secs} s)")]
    Throttled { message: String, retry_after_secs: u64 },
    #[error("database: {0}")]
    Database(#[from] DbError),
    #[error("internal: {0}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    fn refused(status: StatusCode, kind: Kind, message: impl Into<String>) -> Self {
        Self::Refused { status, kind, message: message.into() }
    }
    /// 400: malformed or invalid input.
    pub fn bad_input(kind: Kind, message: impl Into<String>) -> Self {
        Self::refused(crate::http::status(Refusal::Invalid), kind, message)
    }
    /// 403: the caller may not do this.
    pub fn forbidden(kind: Kind, message: impl Into<String>) -> Self {
        Self::refused(crate::http::status(Refusal::Forbidden), kind, message)
    }
    /// 404: the thing acted on does not exist.
    pub fn not_found(kind: Kind, message: impl Into<String>) -> Self {
        Self::refused(crate::http::status(Refusal::NotFound), kind, message)
    }
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::refused(crate::http::status(Refusal::TooLarge), Kind::Unknown, message)
    }
    /// 408: the request body did not arrive in time.
    pub fn request_timeout(message: impl Into<String>) -> Self {
        Self::refused(StatusCode::REQUEST_TIMEOUT, Kind::Unknown, message)
    }
    pub fn not_authenticated() -> Self {
        Self::forbidden(Kind::NotAuthenticated, "You are not authenticated")
    }
    pub fn authenticated() -> Self {
        Self::forbidden(Kind::Authenticated, "Only unauthenticated users can do it")
    }
    pub fn route_not_found() -> Self {
        Self::not_found(Kind::RouteNotFound, "Route not found")
    }
}

impl ApiError {
    /// `Retry-After` of a throttled request, in seconds.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Throttled { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        }
    }
}

/// A use case's error, as this API answers it (a refusal's status is `Refusal::status`, which
/// the pages answer with too).
impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Refused { why, kind, message } => {
                Self::Refused { status: crate::http::status(why), kind, message: message.into_owned() }
            }
            // The original's validation texts, one line per problem.
            CoreError::InvalidForm(problems) => Self::bad_input(Kind::Unknown, problems.to_string()),
            CoreError::Throttled { message, retry_after } => {
                Self::Throttled { message, retry_after_secs: retry_after_secs(retry_after) }
            }
            CoreError::Database(e) => Self::Database(e),
            CoreError::Internal(e) => Self::Internal(e),
        }
    }
}

/// A query's own error, as [`DbError`] would carry it: `?` works on queries directly.
impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(e))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Refused { status, .. } => *status,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Database(e) if e.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(e) if e.is_connection_lost() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(e) if e.is_unstorable_text() => StatusCode::BAD_REQUEST,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (kind, message) = match self {
            Self::Refused { kind, message, .. } => (kind.as_str().to_owned(), message.clone()),
            Self::Throttled { message, .. } => (Kind::TooManyRequests.as_str().to_owned(), message.clone()),
            // Every door refuses NUL before it gets here; this is the net under them.
            Self::Database(e) if e.is_unstorable_text() => {
                tracing::warn!(error = %self, "text the database cannot store reached a query");
                (Kind::Unknown.as_str().to_owned(), crate::http::NUL_REFUSED.to_owned())
            }
            Self::Database(e) if e.is_unavailable() || e.is_connection_lost() => {
                tracing::error!(error = %self, "request failed: database unavailable");
                (Kind::Unavailable.as_str().to_owned(), "Service temporarily unavailable".to_owned())
            }
            Self::Database(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                ("Internal".to_owned(), "Internal server error".to_owned())
            }
        };
        let mut response = json_response(status, &Failure { ok: false, errors: vec![WireError { kind, message }] });
        if let Some(secs) = self.retry_after_secs() {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
