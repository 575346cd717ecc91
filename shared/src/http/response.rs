//! JSON responses.

use lambda_http::{Body, Response, http::StatusCode};
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
