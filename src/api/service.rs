//! Service endpoints: liveness, readiness, and what unknown routes get (the API description is
//! `openapi.rs`).

use std::time::Duration;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use nosebook_core::state::AppState;
use serde::Serialize;
use utoipa::ToSchema;

use super::envelope::{ApiError, Failure, Reply, Success, WireError, json_response};

/// The original's health check: `pong`, no envelope, no session handling.
#[utoipa::path(get, path = "/ping", tag = "service",
    responses((status = 200, description = "pong", body = String, content_type = "text/plain")))]
pub async fn ping() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("pong")
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process is up and answering.
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "Up", body = Success<Health>)))]
pub async fn healthz() -> Reply<Health> {
    Reply::Data(Health { status: "up" })
}

/// Readiness: the database answers within two seconds.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "Ready", body = Success<Health>),
        (status = 503, description = "Database unreachable (`Unavailable`)", body = Failure),
    ))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => json_response(StatusCode::OK, &Success { ok: true, data: Health { status: "ready" } }),
        outcome => {
            let cause = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".to_owned(),
            };
            tracing::warn!(%cause, "not ready: database unreachable");
            let error = WireError { kind: "Unavailable".into(), message: "database unreachable".into() };
            json_response(StatusCode::SERVICE_UNAVAILABLE, &Failure { ok: false, errors: vec![error] })
        }
    }
}

/// Unknown routes and known routes with the wrong method: 404 (the original has no 405).
/// A known path with an extra trailing slash redirects to the path without it, as the original's
/// router does: 301 for GET, 307 for other methods so the body is sent again.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let known_without_slash = path.strip_suffix('/').filter(|p| !p.is_empty() && req.resource_map().has_resource(p));
    if let Some(trimmed) = known_without_slash {
        let status =
            if req.method() == Method::GET { StatusCode::MOVED_PERMANENTLY } else { StatusCode::TEMPORARY_REDIRECT };
        let location = match req.query_string() {
            "" => trimmed.to_owned(),
            query => format!("{trimmed}?{query}"),
        };
        let reason = status.canonical_reason().unwrap_or_default();
        // The query string is the client's: escape it before it goes into HTML.
        let href = location.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        return Ok(HttpResponse::build(status)
            .insert_header((header::LOCATION, location.as_str()))
            .content_type("text/html; charset=utf-8")
            .body(format!("<a href=\"{href}\">{reason}</a>.\n\n")));
    }
    Err(ApiError::route_not_found())
}
