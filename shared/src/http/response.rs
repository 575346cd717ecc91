//! JSON responses, and the one log line per request.

use super::problem::error_response;
use crate::error::ApiResult;
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const JSON: &str = "application/json";

/// 204 with no body.
#[must_use]
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// 200 with a JSON body.
#[must_use]
pub fn ok<T: Serialize>(body: &T) -> Response<Body> {
    json(StatusCode::OK, body)
}

/// A JSON response with the given status.
#[must_use]
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    respond(status, JSON, body)
}

pub(super) fn respond<T: Serialize>(
    status: StatusCode,
    content_type: &str,
    body: &T,
) -> Response<Body> {
    // Serialising our own plain structs cannot fail; fall back to an empty body rather than panic.
    let text = serde_json::to_string(body).unwrap_or_default();
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(lambda_http::http::header::CONTENT_TYPE, value);
    }
    response
}

/// The response for a dispatched request (errors mapped by [`error_response`]), with one log
/// line: method, path, status, duration. Never the body, the key or any other header.
#[must_use]
pub fn finish(
    request: &Request,
    started: std::time::Instant,
    outcome: ApiResult<Response<Body>>,
) -> Response<Body> {
    let response = outcome.unwrap_or_else(|error| error_response(&error));
    tracing::info!(
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis(),
        "request"
    );
    response
}
